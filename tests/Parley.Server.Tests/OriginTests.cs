using System.Net;
using System.Net.WebSockets;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Parley.Signaling;

namespace Parley.Server.Tests;

/// <summary>Another site's page cannot open the signaling socket from its visitors' browsers.</summary>
public sealed class OriginTests
{
    [Fact]
    public async Task A_page_from_another_site_is_refused_before_the_upgrade_with_a_stable_error_id()
    {
        await using var server = await RunningServer.StartAsync();

        var (status, body) = await HandshakeAsync(server, "https://evil.example");

        Assert.Equal(HttpStatusCode.Forbidden, status);
        using var refusal = JsonDocument.Parse(body);
        Assert.Equal("origin-not-allowed", refusal.RootElement.GetProperty("error").GetString());
        Assert.Equal((0, 0, 0), server.App.Services.GetRequiredService<SignalingHub>().Counts());
    }

    [Theory]
    [InlineData(null)] // not a browser
    [InlineData("http://127.0.0.1:1234")] // a page of this host (the port may differ behind a proxy)
    public async Task Pages_of_this_host_and_non_browser_clients_connect(string? origin)
    {
        await using var server = await RunningServer.StartAsync();

        var (status, _) = await HandshakeAsync(server, origin);

        Assert.Equal(HttpStatusCode.SwitchingProtocols, status);
    }

    [Theory]
    [InlineData("https://app.example.org")]
    [InlineData("*")]
    public async Task Origins_listed_in_configuration_connect(string allowed)
    {
        await using var server = await RunningServer.StartAsync("http://127.0.0.1:0", "--Signaling:AllowedOrigins:0=" + allowed);

        var (status, _) = await HandshakeAsync(server, "https://app.example.org");

        Assert.Equal(HttpStatusCode.SwitchingProtocols, status);
    }

    [Fact]
    public async Task An_allowed_origin_with_a_path_stops_startup()
    {
        var app = ParleyApp.Build(["--urls", "http://127.0.0.1:0", "--Turn:Enabled=false", "--Signaling:AllowedOrigins:0=https://app.example.org/call"]);

        var error = await Assert.ThrowsAnyAsync<Exception>(() => app.StartAsync());

        Assert.Contains(ParleyApp.ConfigurationProblems(error), p => p.Contains("Signaling:AllowedOrigins:0", StringComparison.Ordinal));
        await app.DisposeAsync();
    }

    private static async Task<(HttpStatusCode Status, string Body)> HandshakeAsync(RunningServer server, string? origin)
    {
        using var socket = new ClientWebSocket { Options = { CollectHttpResponseDetails = true } };
        if (origin is not null)
            socket.Options.SetRequestHeader("Origin", origin);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            await socket.ConnectAsync(server.WebSocketUri, timeout.Token);
            return (socket.HttpStatusCode, "");
        }
        catch (WebSocketException)
        {
            // The refusal's body is not exposed by ClientWebSocket: ask again over plain HTTP.
            using var http = new HttpClient();
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(server.BaseUri, "/ws"));
            request.Headers.Add("Origin", origin);
            var response = await http.SendAsync(request, timeout.Token);
            return (response.StatusCode, await response.Content.ReadAsStringAsync(timeout.Token));
        }
    }
}
