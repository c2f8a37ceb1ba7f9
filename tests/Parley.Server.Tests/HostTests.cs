using System.Diagnostics;
using System.Net;

namespace Parley.Server.Tests;

public sealed class HostTests
{
    [Fact]
    public async Task Health_the_app_invite_links_and_static_client_are_served()
    {
        await using var server = await RunningServer.StartAsync();
        using var http = new HttpClient { BaseAddress = server.BaseUri };

        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/healthz")).StatusCode);
        var app = await http.GetAsync("/");
        Assert.Equal("text/html", app.Content.Headers.ContentType?.MediaType);
        var invite = await http.GetStringAsync("/r/%E5%AE%B6%E5%BA%AD");
        Assert.Equal(await app.Content.ReadAsStringAsync(), invite);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/ui/index.html")).StatusCode);
    }

    [Fact]
    public async Task The_signaling_endpoint_asks_plain_http_requests_to_upgrade()
    {
        await using var server = await RunningServer.StartAsync();
        using var http = new HttpClient { BaseAddress = server.BaseUri };

        var response = await http.GetAsync("/ws");

        Assert.Equal(HttpStatusCode.UpgradeRequired, response.StatusCode);
    }

    [Fact]
    public async Task Urls_from_the_command_line_are_honoured()
    {
        await using var server = await RunningServer.StartAsync("http://127.0.0.2:0");

        Assert.Equal("127.0.0.2", server.BaseUri.Host);
        using var http = new HttpClient { BaseAddress = server.BaseUri };
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/healthz")).StatusCode);
    }

    [Fact]
    public async Task Bad_configuration_stops_startup_and_names_every_problem()
    {
        var app = ParleyApp.Build(["--urls", "http://127.0.0.1:0", "--Signaling:RoomCapacity=12", "--Signaling:MaxMessageBytes=5",
            "--Turn:UdpPort=0", "--Turn:TcpPort=0", "--Turn:SharedSecrets:0=short"]);

        var error = await Assert.ThrowsAnyAsync<Exception>(() => app.StartAsync());

        var problems = ParleyApp.ConfigurationProblems(error);
        Assert.Contains(problems, f => f.Contains("RoomCapacity is 12", StringComparison.Ordinal));
        Assert.Contains(problems, f => f.Contains("MaxMessageBytes is 5", StringComparison.Ordinal));
        Assert.Contains(problems, f => f.Contains("Turn:SharedSecrets", StringComparison.Ordinal));
        await app.DisposeAsync();
    }

    /// <summary>What a person sees: the real process prints each problem once, no stack trace, and exits with 2.</summary>
    [Fact]
    public async Task The_server_process_with_bad_configuration_prints_each_problem_once_and_exits_2()
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { typeof(ParleyApp).Assembly.Location, "--urls", "http://127.0.0.1:0", "--Signaling:RoomCapacity=12",
            "--Proxy:PathBase=parley", "--Turn:UdpPort=0", "--Turn:TcpPort=0" })
            start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var stdout = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var stderr = await process.StandardError.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);

        Assert.Equal(2, process.ExitCode);
        var problems = stderr.Split('\n').Where(l => l.StartsWith("  - ", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, problems.Count);
        Assert.Single(problems, p => p.Contains("Signaling:RoomCapacity is 12", StringComparison.Ordinal));
        Assert.Single(problems, p => p.Contains("Proxy:PathBase is 'parley'", StringComparison.Ordinal));
        Assert.DoesNotContain("   at ", stderr + await stdout, StringComparison.Ordinal);
    }
}
