using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Parley.Turn.Hosting;
using Parley.Turn.Tests;

namespace Parley.Turn.FunctionalTests;

/// <summary>A real host with AddTurnServer on loopback, ephemeral ports, 127.0.0.1 allowed as a peer.</summary>
public sealed class TurnHost : IAsyncDisposable
{
    public const string Secret = "functional-test-secret";
    public const string Realm = "parley.test";

    private readonly IHost _host;
    private readonly string? _certificateDirectory;

    private TurnHost(IHost host, string? certificateDirectory, string? thumbprint)
    {
        _host = host;
        _certificateDirectory = certificateDirectory;
        CertificateThumbprint = thumbprint;
    }

    /// <summary>The SHA-1 thumbprint of the self-signed TLS certificate, which the test client pins.</summary>
    public string? CertificateThumbprint { get; }

    public TurnEndpoints Endpoints => _host.Services.GetRequiredService<TurnEndpoints>();

    public TurnServer Server => _host.Services.GetRequiredService<TurnServer>();

    /// <summary>The host's UDP driver (epoll loops on Linux unless <see cref="StartAsync"/> chose one).</summary>
    internal UdpIo UdpIo => _host.Services.GetRequiredService<UdpIo>();

    /// <param name="overrides">Turn:* settings over the defaults above.</param>
    /// <param name="tls">Also listen for TLS with a fresh self-signed certificate.</param>
    /// <param name="udp">How UDP sockets are driven: <see cref="UdpDriver.Default"/> is what the platform uses.</param>
    public static async Task<TurnHost> StartAsync(Dictionary<string, string?>? overrides = null, bool tls = false, UdpDriver udp = UdpDriver.Default)
    {
        Dictionary<string, string?> settings = new()
        {
            ["Turn:Realm"] = Realm,
            ["Turn:SharedSecrets:0"] = Secret,
            ["Turn:ListenAddresses:0"] = "127.0.0.1",
            ["Turn:UdpPort"] = "0",
            ["Turn:TcpPort"] = "0",
            ["Turn:RelayAddresses:0"] = "127.0.0.1",
            ["Turn:MinRelayPort"] = "40000",
            ["Turn:MaxRelayPort"] = "40999",
            ["Turn:AllowedPeerRanges:0"] = "127.0.0.1/32",
        };
        string? directory = null, thumbprint = null;
        if (tls)
        {
            directory = Directory.CreateTempSubdirectory("parley-turn-tls-").FullName;
            string path = Path.Combine(directory, "turn.pfx");
            using RSA key = RSA.Create(2048);
            var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            using X509Certificate2 certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddHours(1));
            await File.WriteAllBytesAsync(path, certificate.Export(X509ContentType.Pfx));
            thumbprint = certificate.Thumbprint;
            settings["Turn:TlsCertificatePath"] = path;
            settings["Turn:TlsPort"] = "0";
        }

        foreach ((string key, string? value) in overrides ?? [])
        {
            settings[key] = value;
        }

        HostApplicationBuilder builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(settings);
        if (udp != UdpDriver.Default)
        {
            // Registered before AddTurnServer, which then keeps it (TryAdd).
            builder.Services.AddSingleton(_ => UdpIo.Create(NullLogger.Instance, preferThreads: udp == UdpDriver.Threads, loops: udp == UdpDriver.TwoLoops ? 2 : 1));
        }

        builder.Services.AddTurnServer(builder.Configuration.GetSection("Turn"));
        IHost host = builder.Build();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await host.StartAsync(timeout.Token);
        await host.Services.GetRequiredService<TurnEndpoints>().Started.WaitAsync(timeout.Token);
        return new TurnHost(host, directory, thumbprint);
    }

    public static ClientCredentials Credentials(string userId = "alice", string secret = Secret)
    {
        TurnCredential credential = TurnCredentials.Create(secret, userId, DateTimeOffset.UtcNow.AddHours(1));
        return new ClientCredentials(credential.Username, credential.Password, Realm);
    }

    public async ValueTask DisposeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await _host.StopAsync(timeout.Token);
        _host.Dispose();
        if (_certificateDirectory is not null)
        {
            Directory.Delete(_certificateDirectory, recursive: true);
        }
    }
}

/// <summary>How the test host drives its UDP sockets.</summary>
public enum UdpDriver
{
    /// <summary>What the platform uses (epoll loops on Linux).</summary>
    Default,

    /// <summary>The portable fallback: a receive thread per socket.</summary>
    Threads,

    /// <summary>One epoll loop (Linux).</summary>
    OneLoop,

    /// <summary>Two epoll loops, so that listener and relay sockets may sit on different loop threads (Linux).</summary>
    TwoLoops,
}
