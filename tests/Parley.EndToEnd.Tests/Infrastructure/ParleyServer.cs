using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Parley.Server;

namespace Parley.EndToEnd.Infrastructure;

/// <summary>
/// The real Parley host, started in-process on 127.0.0.1 with a port chosen by the OS. It can be stopped and
/// started again on the same port with the same configuration (including the resume-token key), which is
/// what a restart of the server process looks like to the browsers.
/// </summary>
internal sealed class ParleyServer : IAsyncDisposable
{
    /// <summary>Room capacity used by every test (the protocol's default).</summary>
    public const int RoomCapacity = 4;

    private readonly string[] _settings;
    private WebApplication? _app;
    private string? _temporaryDirectory;

    private ParleyServer(string[] settings) => _settings = settings;

    /// <summary>Site root, e.g. <c>http://127.0.0.1:41234/</c>; fixed for the life of this object.</summary>
    public Uri BaseUri { get; private set; } = null!;

    public bool IsRunning => _app is not null;

    public static Task<ParleyServer> StartAsync(params string[] extraSettings) => StartOnAsync("http://127.0.0.1:0", extraSettings);

    /// <summary>Parley serving HTTPS itself on 127.0.0.1 with a self-signed certificate (the pages ignore certificate errors).</summary>
    public static async Task<ParleyServer> StartHttpsAsync(params string[] extraSettings)
    {
        var directory = Directory.CreateTempSubdirectory("parley-https-").FullName;
        var (certificatePath, keyPath) = await LoopbackCertificate.WritePemAsync(directory);
        var server = await StartOnAsync("https://127.0.0.1:0",
            [$"--Https:CertificatePath={certificatePath}", $"--Https:KeyPath={keyPath}", .. extraSettings]);
        server._temporaryDirectory = directory;
        return server;
    }

    private static async Task<ParleyServer> StartOnAsync(string url, string[] extraSettings)
    {
        var server = new ParleyServer(
        [
            $"--Signaling:RoomCapacity={RoomCapacity}",
            // Resume tokens are sealed with this key: a restarted server must have the same one.
            $"--Signaling:ResumeKey={Convert.ToBase64String(RandomNumberGenerator.GetBytes(32))}",
            "--Logging:LogLevel:Default=Warning",
            // The embedded TURN server on free ports, relaying between loopback peers (denied by default).
            "--Turn:UdpPort=0",
            "--Turn:TcpPort=0",
            "--Turn:RelayAddresses:0=127.0.0.1",
            "--Turn:AllowedPeerRanges:0=127.0.0.0/8",
            // Stops (the restart test, teardown) do not wait for Chromium's TURN allocations to drain.
            "--Drain:TurnGrace=00:00:00",
            .. extraSettings,
        ]);
        await server.StartOnAsync(url);
        return server;
    }

    /// <summary>Starts a new app instance on the port the first one bound.</summary>
    public Task StartAgainAsync() =>
        IsRunning ? Task.CompletedTask : StartOnAsync(BaseUri.GetLeftPart(UriPartial.Authority));

    public async Task StopAsync()
    {
        if (_app is not { } app)
            return;
        _app = null;
        await app.StopAsync();
        await app.DisposeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        if (_temporaryDirectory is not null)
            Directory.Delete(_temporaryDirectory, recursive: true);
    }

    private async Task StartOnAsync(string url)
    {
        var app = ParleyApp.Build(["--urls", url, .. _settings], builder =>
            // Open WebSockets must not hold a stop (restart test, teardown) for the default 30 s.
            builder.Services.Configure<HostOptions>(options => options.ShutdownTimeout = TimeSpan.FromSeconds(5)));
        await app.StartAsync();
        _app = app;
        var address = ParleyApp.BoundAddresses(app).Single();
        BaseUri = new Uri(address.EndsWith('/') ? address : address + "/");
    }
}
