using Microsoft.AspNetCore.Builder;

namespace Parley.Server.Tests;

/// <summary>The real Parley host on a loopback port chosen by the OS.</summary>
public sealed class RunningServer : IAsyncDisposable
{
    public static readonly string ResumeKey = Convert.ToBase64String(Enumerable.Range(7, 32).Select(i => (byte)i).ToArray());

    private RunningServer(WebApplication app, Uri baseUri)
    {
        App = app;
        BaseUri = baseUri;
    }

    public WebApplication App { get; }
    public Uri BaseUri { get; }
    public Uri WebSocketUri => new($"ws://{BaseUri.Authority}/ws");

    public static async Task<RunningServer> StartAsync(string url = "http://127.0.0.1:0", params string[] settings)
    {
        var args = new List<string>
        {
            "--urls", url, "--Signaling:ResumeKey=" + ResumeKey, "--Logging:LogLevel:Default=Warning",
            "--Turn:UdpPort=0", "--Turn:TcpPort=0", "--Turn:RelayAddresses:0=127.0.0.1",
            // A stop waits for no TURN allocation unless a test asks for a drain.
            "--Drain:TurnGrace=00:00:00",
        };
        args.AddRange(settings);
        var app = ParleyApp.Build([.. args]);
        await app.StartAsync();
        return new RunningServer(app, new Uri(ParleyApp.BoundAddresses(app).Single()));
    }

    public async ValueTask DisposeAsync()
    {
        await App.StopAsync();
        await App.DisposeAsync();
    }
}
