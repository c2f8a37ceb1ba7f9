using System.Diagnostics.Metrics;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Parley.Server.Observability;
using Parley.Turn.FunctionalTests;
using Parley.Turn.Hosting;
using Parley.Turn.Tests;

namespace Parley.Server.Tests;

/// <summary>/metrics on the real host: what a scrape shows after real sessions, and who may scrape.</summary>
public sealed class MetricsEndpointTests
{
    [Fact]
    public async Task A_scrape_from_loopback_shows_a_real_sessions_messages_errors_rooms_calls_and_reports()
    {
        await using var server = await RunningServer.StartAsync();
        await using var ana = await WsClient.WelcomedAsync(server.WebSocketUri);
        await using var bo = await WsClient.WelcomedAsync(server.WebSocketUri);
        await using var stranger = await WsClient.WelcomedAsync(server.WebSocketUri);
        await ana.JoinAsync("ana-and-bo", "Ana");
        await bo.JoinAsync("ana-and-bo", "Bo");
        await ana.SendAsync(new { type = "sdp", to = bo.PeerId, description = new { type = "offer", sdp = "v=0\r\n" } });
        await bo.ReceiveAsync("sdp");
        await bo.SendAsync(new
        {
            type = "call-report", durationMs = 2500, connected = true, localCandidateType = "host", remoteCandidateType = "host",
            rttMs = 1.5, packetLoss = 0.0, iceRestarts = 1,
        });
        await bo.SendAsync(new { type = "ping" });
        await bo.ReceiveAsync("pong"); // handled in order: the report is counted by now
        await stranger.SendAsync(new { type = "launch" });
        Assert.Equal("unknown-type", await stranger.ReceiveErrorIdAsync());

        using var http = new HttpClient { BaseAddress = server.BaseUri };
        var response = await http.GetAsync("/metrics");
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("text/plain; version=0.0.4", response.Content.Headers.ContentType!.ToString(), StringComparison.Ordinal);
        var lines = text.Split('\n');
        Assert.Contains("# TYPE parley_signaling_messages_total counter", lines);
        Assert.Contains("parley_signaling_messages_total{type=\"hello\"} 3", lines);
        Assert.Contains("parley_signaling_messages_total{type=\"call-report\"} 1", lines);
        Assert.Contains("parley_signaling_messages_total{type=\"other\"} 1", lines);
        Assert.Contains("parley_signaling_errors_total{error=\"unknown-type\"} 1", lines);
        Assert.Contains("parley_signaling_connections 3", lines);
        Assert.Contains("parley_signaling_sessions 3", lines);
        Assert.Contains("parley_signaling_rooms 1", lines);
        Assert.Contains("parley_signaling_participants 2", lines);
        Assert.Contains("parley_calls_started_total 1", lines);
        Assert.Contains("parley_call_reports_total{local_candidate_type=\"host\",relay_protocol=\"none\",remote_candidate_type=\"host\"} 1", lines);
        Assert.Contains("parley_call_ice_restarts_total 1", lines);
        Assert.Contains("# TYPE parley_call_duration_seconds histogram", lines);
        Assert.Contains("parley_call_duration_seconds_bucket{le=\"5\"} 1", lines);
        Assert.Contains("parley_call_duration_seconds_bucket{le=\"1\"} 0", lines);
        Assert.Contains("parley_call_duration_seconds_sum 2.5", lines);
        Assert.Contains("parley_call_rtt_seconds_count 1", lines);
        Assert.Contains("parley_call_packet_loss_ratio_bucket{le=\"0\"} 1", lines);
        Assert.DoesNotContain("ana-and-bo", text, StringComparison.Ordinal); // no room names, no peer ids
        Assert.DoesNotContain(ana.PeerId, text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_turn_allocation_on_the_embedded_server_and_a_failed_authentication_are_counted()
    {
        await using var server = await RunningServer.StartAsync();
        await using var ws = await WsClient.ConnectAsync(server.WebSocketUri);
        var turn = (await ws.HelloAsync()).GetProperty("iceServers")[1];
        var username = turn.GetProperty("username").GetString()!;
        var password = turn.GetProperty("credential").GetString()!;
        var udp = server.App.Services.GetRequiredService<TurnEndpoints>().Udp.Single();

        await using (var client = await TurnTestClient.Udp(udp))
        {
            client.Credentials = new ClientCredentials(username, password, "parley");
            Assert.Equal(Parley.Stun.StunClass.SuccessResponse, (await client.AllocateAsync()).Class);
        }
        await using (var intruder = await TurnTestClient.Udp(udp))
        {
            intruder.Credentials = new ClientCredentials(username, "guess", "parley");
            Assert.Equal(401, (await intruder.AllocateAsync()).ErrorCode);
        }

        using var http = new HttpClient { BaseAddress = server.BaseUri };
        var lines = (await http.GetStringAsync("/metrics")).Split('\n');

        Assert.Contains("parley_turn_allocations_created_total 1", lines);
        Assert.Contains("parley_turn_allocations 1", lines);
        Assert.Contains("parley_turn_auth_failures_total{reason=\"wrong-credentials\"} 1", lines);
        Assert.Contains("parley_turn_relayed_packets_total{direction=\"to_peer\"} 0", lines);
    }

    /// <summary>OTLP over HTTP to a stand-in collector on loopback: the Parley instruments arrive, protobuf-encoded.</summary>
    [Fact]
    public async Task Metrics_are_pushed_over_otlp_when_an_endpoint_is_configured()
    {
        var received = new TaskCompletionSource<(string ContentType, byte[] Body)>(TaskCreationOptions.RunContinuationsAsynchronously);
        var collectorBuilder = WebApplication.CreateSlimBuilder();
        collectorBuilder.WebHost.UseUrls("http://127.0.0.1:0");
        await using var collector = collectorBuilder.Build();
        collector.MapPost("/v1/metrics", async (HttpRequest request) =>
        {
            using var body = new MemoryStream();
            await request.Body.CopyToAsync(body);
            received.TrySetResult((request.ContentType ?? "", body.ToArray()));
            return Results.Ok();
        });
        await collector.StartAsync();
        var collectorUri = ParleyApp.BoundAddresses(collector).Single();

        await using var server = await RunningServer.StartAsync("http://127.0.0.1:0", "--Metrics:Otlp:Endpoint=" + collectorUri + "/v1/metrics",
            "--Metrics:Otlp:Protocol=http/protobuf", "--Metrics:Otlp:ExportInterval=00:00:01");
        await using var ana = await WsClient.WelcomedAsync(server.WebSocketUri);
        await ana.SendAsync(new { type = "ping" });
        await ana.ReceiveAsync("pong");

        var (contentType, body) = await received.Task.WaitAsync(TimeSpan.FromSeconds(15));
        Assert.Equal("application/x-protobuf", contentType);
        var text = Encoding.UTF8.GetString(body); // protobuf keeps strings as UTF-8 bytes
        Assert.Contains("Parley.Signaling", text, StringComparison.Ordinal);
        Assert.Contains("parley.signaling.messages", text, StringComparison.Ordinal);
        await collector.StopAsync();
    }

    [Theory]
    [InlineData("--Metrics:AllowedNetworks:0=10.0.0.0/8")]
    [InlineData("--Metrics:Enabled=false")]
    public async Task Metrics_are_refused_with_an_empty_404_outside_the_allowed_networks(string setting)
    {
        await using var server = await RunningServer.StartAsync("http://127.0.0.1:0", setting);
        using var http = new HttpClient { BaseAddress = server.BaseUri };

        var response = await http.GetAsync("/metrics");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_single_allowed_address_is_enough()
    {
        await using var server = await RunningServer.StartAsync("http://127.0.0.1:0", "--Metrics:AllowedNetworks:0=10.1.2.3", "--Metrics:AllowedNetworks:1=127.0.0.1");
        using var http = new HttpClient { BaseAddress = server.BaseUri };

        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/metrics")).StatusCode);
    }

    [Fact]
    public async Task Bad_metrics_and_log_settings_stop_startup_with_one_line_each()
    {
        var app = ParleyApp.Build(["--urls", "http://127.0.0.1:0", "--Turn:UdpPort=0", "--Turn:TcpPort=0",
            "--Metrics:AllowedNetworks:0=10.0.0.1/8", "--Metrics:AllowedNetworks:1=localhost", "--Metrics:Otlp:Endpoint=collector:4317",
            "--log-format", "xml"]);

        var error = await Assert.ThrowsAnyAsync<Exception>(() => app.StartAsync());

        var problems = ParleyApp.ConfigurationProblems(error);
        Assert.Contains(problems, p => p.StartsWith("Metrics:AllowedNetworks:0 is '10.0.0.1/8'", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("Metrics:AllowedNetworks:1 is 'localhost'", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("Metrics:Otlp:Endpoint", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("Logging:Format (--log-format) is 'xml'", StringComparison.Ordinal));
        await app.DisposeAsync();
    }

    [Theory]
    [InlineData("127.0.0.1", true)]
    [InlineData("127.9.9.9", true)]
    [InlineData("::1", true)]
    [InlineData("::ffff:127.0.0.1", true)]
    [InlineData("10.0.0.1", false)]
    [InlineData("::2", false)]
    public void The_default_allow_list_is_loopback(string address, bool allowed)
    {
        var networks = new MetricsOptions().EffectiveAllowedNetworks();

        Assert.Equal(allowed, ObservabilityExtensions.IsAllowed(IPAddress.Parse(address), networks));
    }

    /// <summary>The listener side: real instruments through the collector to the exact exposition text.</summary>
    [Fact]
    public void The_collector_sums_counters_keeps_observed_values_and_buckets_histograms()
    {
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var factory = services.GetRequiredService<IMeterFactory>();
        using var collector = new MetricsCollector(factory, ["Parley.Test"]);
        var meter = factory.Create("Parley.Test");
        var other = factory.Create("Not.Parley");
        var counter = meter.CreateCounter<long>("parley.test.things", "{thing}", "Things.");
        var histogram = meter.CreateHistogram("parley.test.wait", "s", "Waits.", advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [1, 2] });
        var level = 7;
        meter.CreateObservableGauge("parley.test.level", () => level, "1", "Level.");
        other.CreateCounter<long>("not.counted").Add(5);

        counter.Add(2, new KeyValuePair<string, object?>("kind", "a"));
        counter.Add(3, new KeyValuePair<string, object?>("kind", "a"));
        counter.Add(1, new KeyValuePair<string, object?>("kind", "b\"c"));
        histogram.Record(0.5);
        histogram.Record(2);
        histogram.Record(9);
        level = 8;
        var text = new StringBuilder();
        PrometheusText.Write(text, collector.Collect());

        Assert.Equal(
            "# HELP parley_test_level_ratio Level.\n" +
            "# TYPE parley_test_level_ratio gauge\n" +
            "parley_test_level_ratio 8\n" +
            "# HELP parley_test_things_total Things.\n" +
            "# TYPE parley_test_things_total counter\n" +
            "parley_test_things_total{kind=\"a\"} 5\n" +
            "parley_test_things_total{kind=\"b\\\"c\"} 1\n" +
            "# HELP parley_test_wait_seconds Waits.\n" +
            "# TYPE parley_test_wait_seconds histogram\n" +
            "parley_test_wait_seconds_bucket{le=\"1\"} 1\n" +
            "parley_test_wait_seconds_bucket{le=\"2\"} 2\n" +
            "parley_test_wait_seconds_bucket{le=\"+Inf\"} 3\n" +
            "parley_test_wait_seconds_sum 11.5\n" +
            "parley_test_wait_seconds_count 3\n", text.ToString());
    }
}
