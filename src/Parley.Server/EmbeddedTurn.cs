using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.Extensions.Options;
using Parley.Server.Https;
using Parley.Signaling;
using Parley.Turn;
using Parley.Turn.Hosting;

namespace Parley.Server;

/// <summary>
/// Runs Parley's own STUN/TURN server inside the host (on by default) and hands browsers its URLs with
/// short-lived credentials through the signaling welcome.
/// </summary>
internal static partial class EmbeddedTurn
{
    public static void AddEmbeddedTurn(this WebApplicationBuilder builder)
    {
        builder.Services.AddTurnServer(builder.Configuration.GetSection(TurnOptions.SectionName));
        builder.Services.AddSingleton<IPostConfigureOptions<TurnOptions>, ZeroConfigTurnDefaults>();
        builder.Services.AddSingleton<IIceServerSource, EmbeddedTurnIceServers>();
    }
}

/// <summary>
/// What one command needs to give a working TURN server: a shared secret generated once into the data directory,
/// and a relay address guessed from the default route. Explicit configuration always wins.
/// </summary>
internal sealed class ZeroConfigTurnDefaults(IOptions<SignalingOptions> signaling, ILogger<ZeroConfigTurnDefaults> logger)
    : IPostConfigureOptions<TurnOptions>
{
    public void PostConfigure(string? name, TurnOptions options)
    {
        if (!options.Enabled)
            return;
        if (options.SharedSecrets.Count == 0)
        {
            var directory = signaling.Value.EffectiveDataDirectory;
            try
            {
                options.SharedSecrets.Add(PersistentSecret.LoadOrCreate(directory, "turn.secret"));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Still works, only credentials minted before a restart stop working after it.
                HostLog.TurnSecretNotPersisted(logger, e, directory);
                options.SharedSecrets.Add(Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)));
            }
        }
        if (options.RelayAddresses.Count == 0)
            options.RelayAddresses.Add(DefaultRouteAddress().ToString());
    }

    /// <summary>
    /// The local IPv4 address of the default route: "connecting" a UDP socket picks it without sending anything.
    /// Loopback when there is no route (a loopback-only test namespace).
    /// </summary>
    private static IPAddress DefaultRouteAddress()
    {
        try
        {
            using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            probe.Connect(new IPEndPoint(IPAddress.Parse("192.0.2.1"), 9)); // TEST-NET-1: never actually reached
            return ((IPEndPoint)probe.LocalEndPoint!).Address;
        }
        catch (SocketException)
        {
            return IPAddress.Loopback;
        }
    }
}

/// <summary>The embedded server's STUN and TURN URLs, once its listeners are bound.</summary>
internal sealed class EmbeddedTurnIceServers(IOptions<TurnOptions> options, TurnEndpoints endpoints, IServer server,
    IOptions<HttpsOptions> https) : IIceServerSource
{
    public IEnumerable<IceServerOptions> GetIceServers()
    {
        var turn = options.Value;
        if (!turn.Enabled || !endpoints.Started.IsCompletedSuccessfully)
            yield break;

        var host = string.IsNullOrEmpty(turn.PublicHost) ? IceServerProvider.HostPlaceholder : turn.PublicHost;
        if (endpoints.Udp.Count > 0)
            yield return new IceServerOptions { Urls = [$"stun:{host}:{endpoints.Udp[0].Port}"] };

        List<string> urls = [];
        if (endpoints.Udp.Count > 0)
            urls.Add($"turn:{host}:{endpoints.Udp[0].Port}?transport=udp");
        if (endpoints.Tcp.Count > 0)
            urls.Add($"turn:{host}:{endpoints.Tcp[0].Port}?transport=tcp");
        if (endpoints.Tls.Count > 0)
            urls.Add($"turns:{host}:{endpoints.Tls[0].Port}?transport=tcp");
        // On the web server's HTTPS port the web certificate is shown: always the host the browser reached it by.
        if (turn.ShareHttpsPort && https.Value.Enabled && TurnOnHttpsPort.PublicHttpsPort(server, https.Value) is int httpsPort)
            urls.Add($"turns:{IceServerProvider.HostPlaceholder}:{httpsPort}?transport=tcp");
        if (urls.Count > 0)
            yield return new IceServerOptions { Urls = urls, SharedSecret = turn.SharedSecrets[0] };
    }
}

internal static partial class HostLog
{
    [LoggerMessage(3000, LogLevel.Warning, "Could not keep the TURN secret in {Directory}; using one for this run only")]
    public static partial void TurnSecretNotPersisted(ILogger logger, Exception exception, string directory);

    [LoggerMessage(3001, LogLevel.Information, "Parley is running: open {Url} in your browser")]
    public static partial void Running(ILogger logger, string url);
}
