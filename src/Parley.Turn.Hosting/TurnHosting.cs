using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Parley.Turn.Hosting;

/// <summary>The endpoints the TURN server is bound to, known once the host has started (tests bind port 0).</summary>
public sealed class TurnEndpoints
{
    private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>UDP listeners (STUN and TURN).</summary>
    public IReadOnlyList<IPEndPoint> Udp { get; private set; } = [];

    /// <summary>TCP listeners.</summary>
    public IReadOnlyList<IPEndPoint> Tcp { get; private set; } = [];

    /// <summary>TLS listeners.</summary>
    public IReadOnlyList<IPEndPoint> Tls { get; private set; } = [];

    /// <summary>Completes once the listeners are bound (at once, with no endpoints, when the server is disabled).</summary>
    public Task Started => _started.Task;

    internal void Set(IReadOnlyList<IPEndPoint> udp, IReadOnlyList<IPEndPoint> tcp, IReadOnlyList<IPEndPoint> tls)
    {
        Udp = udp;
        Tcp = tcp;
        Tls = tls;
        _started.TrySetResult();
    }
}

/// <summary>
/// Mints TURN REST credentials with the first configured shared secret, for handing to clients as ICE servers
/// (the same scheme as coturn's <c>use-auth-secret</c>).
/// </summary>
public sealed class TurnCredentialProvider(IOptions<TurnOptions> options, TimeProvider timeProvider)
{
    /// <summary>A credential for <paramref name="userId"/> (no ':'), valid for <paramref name="lifetime"/> (default 1 hour).</summary>
    public TurnCredential Create(string userId, TimeSpan? lifetime = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        List<string> secrets = options.Value.SharedSecrets;
        if (secrets.Count == 0)
        {
            throw new InvalidOperationException("Turn:SharedSecrets is empty: configure a secret to mint TURN credentials.");
        }

        return TurnCredentials.Create(secrets[0], userId, lifetime ?? TimeSpan.FromHours(1), timeProvider);
    }
}

/// <summary>Starts and stops the TURN listeners: UDP loops and TCP/TLS accept loops, one per listen address.</summary>
internal sealed class TurnHostedService(IServiceProvider services, IOptions<TurnOptions> options, TurnEndpoints endpoints,
    ILogger<TurnHostedService> logger) : IHostedService, IDisposable
{
    private readonly List<IDisposable> _listeners = [];
    private readonly List<Task> _loops = [];
    private TurnServer? _server;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        TurnOptions turn = options.Value;
        if (!turn.Enabled)
        {
            Log.Disabled(logger);
            endpoints.Set([], [], []);
            return Task.CompletedTask;
        }

        _server = services.GetRequiredService<TurnServer>();
        X509Certificate2? certificate = turn.TlsCertificatePath is null ? null : LoadCertificate(turn);
        List<IPEndPoint> udp = [], tcp = [], tls = [];
        try
        {
            foreach (string text in turn.EffectiveListenAddresses)
            {
                IPAddress address = IPAddress.Parse(text);
                if (turn.UdpPort is int udpPort)
                {
                    udp.Add(StartUdp(new IPEndPoint(address, udpPort)));
                }

                if (turn.TcpPort is int tcpPort)
                {
                    tcp.Add(StartStream(new IPEndPoint(address, tcpPort), null));
                }

                if (certificate is not null)
                {
                    tls.Add(StartStream(new IPEndPoint(address, turn.TlsPort), certificate));
                }
            }
        }
        catch
        {
            Dispose();
            throw;
        }

        endpoints.Set(udp, tcp, tls);
        return Task.CompletedTask;
    }

    // One socket per epoll loop on the port (SO_REUSEPORT): the kernel keeps each client with one socket, and each
    // allocation's relay socket joins the loop of the socket its Allocate came in on, so that both directions of an
    // allocation are served by one thread (one wake-up per datagram on one thread, not two threads taking turns).
    private IPEndPoint StartUdp(IPEndPoint endPoint)
    {
        UdpIo io = services.GetRequiredService<UdpIo>();
        int sockets = io.ListenerSockets;
        IPEndPoint bound = endPoint;
        for (int i = 0; i < sockets; i++)
        {
            var listener = new UdpClientTransport(UdpSend.Bind(bound, UdpSend.ListenerBufferBytes, reusePort: sockets > 1), io, i);
            _listeners.Add(listener);
            _loops.Add(listener.Start(_server!));
            bound = listener.EndPoint; // the others join the port the first got (port 0 in tests)
        }

        Log.Listening(logger, "UDP", bound.ToString());
        return bound;
    }

    private IPEndPoint StartStream(IPEndPoint endPoint, X509Certificate2? certificate)
    {
        var listener = new StreamListener(endPoint, certificate, _server!, options.Value.MaxStreamConnections, logger);
        _listeners.Add(listener);
        _loops.Add(Task.Run(listener.Run));
        Log.Listening(logger, certificate is null ? "TCP" : "TLS", listener.EndPoint.ToString());
        return listener.EndPoint;
    }

    private static X509Certificate2 LoadCertificate(TurnOptions turn) =>
        turn.TlsKeyPath is not null || turn.TlsCertificatePath!.EndsWith(".pem", StringComparison.OrdinalIgnoreCase)
            ? X509Certificate2.CreateFromPemFile(turn.TlsCertificatePath!, turn.TlsKeyPath)
            : X509CertificateLoader.LoadPkcs12FromFile(turn.TlsCertificatePath, turn.TlsCertificatePassword);

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        // Sessions on the web server's HTTPS port end with the TURN server's own listeners.
        services.GetService<TurnStreamHandler>()?.Stop();
        Dispose();
        await Task.WhenAll(_loops).WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    public void Dispose()
    {
        foreach (IDisposable listener in _listeners)
        {
            listener.Dispose();
        }

        _listeners.Clear();
        _server?.Dispose();
    }
}

/// <summary>Registration of the embedded TURN server.</summary>
public static class TurnServiceCollectionExtensions
{
    /// <summary>
    /// Adds the STUN/TURN server configured from <paramref name="section"/> (usually <c>configuration.GetSection("Turn")</c>):
    /// options with validation at start-up, the core, real UDP/TCP/TLS sockets as a hosted service,
    /// <see cref="TurnEndpoints"/> (bound ports), <see cref="TurnCredentialProvider"/> (REST credentials) and
    /// <see cref="TurnStreamHandler"/> (sessions on connections a web server accepted, <see cref="HttpsPortSharing"/>).
    /// </summary>
    public static IServiceCollection AddTurnServer(this IServiceCollection services, IConfiguration section)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(section);
        services.AddOptions<TurnOptions>().Bind(section).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<TurnOptions>, TurnOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        // One UdpIo (epoll loops on Linux) drives the listeners and every relay socket; the container disposes it last.
        services.TryAddSingleton(sp => UdpIo.Create(sp.GetRequiredService<ILoggerFactory>().CreateLogger<UdpIo>(),
            loops: sp.GetRequiredService<IOptions<TurnOptions>>().Value.UdpEventLoops));
        services.TryAddSingleton<IRelaySocketFactory>(sp => new UdpRelaySocketFactory(sp.GetRequiredService<UdpIo>()));
        services.TryAddSingleton<TurnServer>();
        services.TryAddSingleton<TurnEndpoints>();
        services.TryAddSingleton<TurnCredentialProvider>();
        services.TryAddSingleton<TurnStreamHandler>();
        services.AddHostedService<TurnHostedService>();
        return services;
    }
}
