using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Net;
using System.Net.Security;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Parley.Stun;

namespace Parley.Turn.Hosting;

/// <summary>
/// TURN over TLS connections that another server accepted and decrypted (the web server's HTTPS port, see
/// <see cref="HttpsPortSharing"/>). Each one runs the same session as a connection to the TURN server's own TLS
/// listener: the core sees a TLS 5-tuple, and its quotas, failed-authentication limit and metrics apply as they are.
/// These connections count against <see cref="TurnOptions.MaxStreamConnections"/> as one more listener.
/// </summary>
public sealed class TurnStreamHandler : IDisposable
{
    private readonly TurnServer _server;
    private readonly TurnOptions _options;
    private readonly TurnEndpoints _endpoints;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private int _open;

    /// <summary>Created by the container (<see cref="TurnServiceCollectionExtensions.AddTurnServer"/>).</summary>
    public TurnStreamHandler(TurnServer server, IOptions<TurnOptions> options, TurnEndpoints endpoints, ILogger<TurnStreamHandler> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _server = server;
        _options = options.Value;
        _endpoints = endpoints;
        _logger = logger;
    }

    /// <summary>Sessions running now.</summary>
    public int OpenConnections => Volatile.Read(ref _open);

    /// <summary>
    /// Runs a TURN session over decrypted streams until the client closes, <paramref name="aborted"/> fires, the
    /// stream breaks or the TURN server stops. Returns at once when the TURN server is not running or the connection
    /// limit is reached. The caller owns (and closes) the streams and the connection.
    /// </summary>
    public async Task RunAsync(Stream input, Stream output, IPEndPoint local, IPEndPoint remote, CancellationToken aborted)
    {
        ArgumentNullException.ThrowIfNull(local);
        ArgumentNullException.ThrowIfNull(remote);
        if (!_options.Enabled || !_endpoints.Started.IsCompletedSuccessfully || _stopping.IsCancellationRequested)
        {
            return;
        }

        if (Interlocked.Increment(ref _open) > _options.MaxStreamConnections)
        {
            Interlocked.Decrement(ref _open);
            Log.StreamConnectionLimit(_logger, "TLS (HTTPS port)", local.ToString(), _options.MaxStreamConnections);
            return;
        }

        try
        {
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token, aborted);
            long id = StreamListener.NextConnectionId();
            // A dual-mode listener ([::]) reports IPv4 clients as ::ffff:a.b.c.d: the core keys clients, relay
            // policy and failed-authentication counts by the IPv4 address, as on the TURN server's own listeners.
            var client = TransportAddress.FromIPEndPoint(Unmapped(remote));
            var server = TransportAddress.FromIPEndPoint(Unmapped(local));
            Log.ConnectionOpened(_logger, "TLS (HTTPS port)", id, client.ToString());
            await StreamListener.RunSession(_server, _logger, id, TurnTransportProtocol.Tls, server, client, input, output, stop.Token)
                .ConfigureAwait(false);
        }
        finally
        {
            Interlocked.Decrement(ref _open);
        }
    }

    /// <summary>Ends every session (the TURN server is stopping); later connections are refused.</summary>
    internal void Stop() => _stopping.Cancel();

    /// <inheritdoc/>
    public void Dispose()
    {
        _stopping.Cancel();
        _stopping.Dispose();
    }

    private static IPEndPoint Unmapped(IPEndPoint endPoint) =>
        endPoint.Address.IsIPv4MappedToIPv6 ? new IPEndPoint(endPoint.Address.MapToIPv4(), endPoint.Port) : endPoint;
}

/// <summary>
/// TURN over TLS on the web server's HTTPS port (Kestrel). Installed on an HTTPS endpoint <em>after</em>
/// <c>UseHttps</c>, it sees the decrypted connection before HTTP does and decides once per connection:
/// <list type="bullet">
/// <item>ALPN <c>stun.turn</c> negotiated (RFC 7443): TURN.</item>
/// <item>ALPN <c>h2</c> or <c>http/1.1</c> negotiated (every browser's page load, curl): HTTP, without reading a byte.</item>
/// <item>No ALPN (Chromium's TURN client, some HTTP clients): the first bytes decide. HTTP/1.x requests and the HTTP/2
/// preface start with an ASCII letter (first two bits 01), STUN with two zero bits; a STUN message also has the magic
/// cookie at bytes 4-7. A STUN start goes to TURN, anything else to HTTP, which answers it as before (400 for
/// garbage). ChannelData cannot open a TURN connection (a channel needs an allocation on the same 5-tuple) and
/// its first byte (0x40-0x4F) is the first letter of GET, HEAD, DELETE, OPTIONS: it is not looked for.</item>
/// </list>
/// Nothing is consumed: HTTP reads the same bytes. A client that sends nothing is closed after Kestrel's
/// <see cref="KestrelServerLimits.KeepAliveTimeout"/> (what HTTP/1.1 allows an idle connection), and one that stops
/// inside the first eight bytes after <see cref="KestrelServerLimits.RequestHeadersTimeout"/>.
/// </summary>
public static class HttpsPortSharing
{
    /// <summary>The ALPN protocol id of TURN (RFC 7443 §4.3): "stun.turn".</summary>
    public static readonly SslApplicationProtocol StunTurn = new("stun.turn"u8.ToArray());

    /// <summary>What the first bytes of a connection are.</summary>
    public enum Verdict
    {
        /// <summary>Fewer bytes than needed to tell.</summary>
        NeedMore,

        /// <summary>The start of a STUN message: a TURN client.</summary>
        Turn,

        /// <summary>Anything else: HTTP (which rejects what is not HTTP).</summary>
        Http,
    }

    /// <summary>
    /// Adds the TURN branch to <paramref name="listen"/>; call it right after <c>UseHttps</c>, so that it sees the
    /// decrypted stream. Needs <see cref="TurnStreamHandler"/> in the application's services.
    /// </summary>
    public static ListenOptions UseTurnAfterTls(this ListenOptions listen)
    {
        ArgumentNullException.ThrowIfNull(listen);
        KestrelServerOptions kestrel = listen.KestrelServerOptions;
        listen.Use(next =>
        {
            TurnStreamHandler turn = listen.ApplicationServices.GetRequiredService<TurnStreamHandler>();
            ILogger logger = listen.ApplicationServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(HttpsPortSharing));
            return connection => OnConnectionAsync(connection, next, turn, kestrel.Limits, logger);
        });
        return listen;
    }

    /// <summary>
    /// Offers ALPN <c>stun.turn</c> first on the handshakes of <paramref name="https"/> (after whatever
    /// <c>OnAuthenticate</c> it already has), so a client that asks for TURN by ALPN gets it. HTTP clients do not
    /// offer it, so their negotiation is unchanged.
    /// </summary>
    public static void OfferTurnAlpn(HttpsConnectionAdapterOptions https)
    {
        ArgumentNullException.ThrowIfNull(https);
        Action<ConnectionContext, SslServerAuthenticationOptions>? before = https.OnAuthenticate;
        https.OnAuthenticate = (connection, ssl) =>
        {
            before?.Invoke(connection, ssl);
            ssl.ApplicationProtocols = [StunTurn, .. ssl.ApplicationProtocols ?? []];
        };
    }

    /// <summary>Classifies the first bytes of a decrypted connection that negotiated no ALPN protocol.</summary>
    public static Verdict Classify(in ReadOnlySequence<byte> start)
    {
        if (start.IsEmpty)
        {
            return Verdict.NeedMore;
        }

        // RFC 8489 §5 / RFC 7983: STUN starts with two zero bits; every HTTP method and the HTTP/2 preface with a letter.
        if ((start.FirstSpan[0] & 0xC0) != 0)
        {
            return Verdict.Http;
        }

        if (start.Length < 8)
        {
            return Verdict.NeedMore;
        }

        Span<byte> header = stackalloc byte[8];
        start.Slice(0, 8).CopyTo(header);
        return BinaryPrimitives.ReadUInt32BigEndian(header[4..]) == StunHeader.MagicCookie ? Verdict.Turn : Verdict.Http;
    }

    private static async Task OnConnectionAsync(ConnectionContext connection, ConnectionDelegate next, TurnStreamHandler turn,
        KestrelServerLimits limits, ILogger logger)
    {
        Verdict verdict;
        ReadOnlyMemory<byte> alpn = connection.Features.Get<ITlsApplicationProtocolFeature>()?.ApplicationProtocol ?? default;
        if (alpn.Span.SequenceEqual(StunTurn.Protocol.Span))
        {
            verdict = Verdict.Turn;
        }
        else if (!alpn.IsEmpty)
        {
            verdict = Verdict.Http;
        }
        else
        {
            Verdict? peeked = await PeekAsync(connection, limits).ConfigureAwait(false);
            if (peeked is not { } known)
            {
                SharingLog.FirstBytesTimedOut(logger, connection.ConnectionId);
                return; // silent: closed, as HTTP/1.1 would have closed it after the same time
            }

            verdict = known;
        }

        if (verdict == Verdict.Http)
        {
            await next(connection).ConfigureAwait(false);
            return;
        }

        if (connection.LocalEndPoint is not IPEndPoint local || connection.RemoteEndPoint is not IPEndPoint remote)
        {
            return; // not TCP: no 5-tuple to give the core
        }

        SharingLog.HandedToTurn(logger, connection.ConnectionId, alpn.IsEmpty ? "first bytes" : "ALPN");
        IDuplexPipe transport = connection.Transport;
        await using Stream input = transport.Input.AsStream(leaveOpen: true);
        await using Stream output = transport.Output.AsStream(leaveOpen: true);
        await turn.RunAsync(input, output, local, remote, connection.ConnectionClosed).ConfigureAwait(false);
    }

    /// <summary>
    /// Waits for enough bytes to classify the connection without consuming any; null when the client sent too little
    /// in time (or the connection closed while waiting). An empty, completed stream is HTTP's to close.
    /// </summary>
    private static async Task<Verdict?> PeekAsync(ConnectionContext connection, KestrelServerLimits limits)
    {
        PipeReader input = connection.Transport.Input;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(connection.ConnectionClosed);
        timeout.CancelAfter(limits.KeepAliveTimeout);
        bool someArrived = false;
        try
        {
            while (true)
            {
                System.IO.Pipelines.ReadResult result = await input.ReadAsync(timeout.Token).ConfigureAwait(false);
                ReadOnlySequence<byte> buffer = result.Buffer;
                Verdict verdict = Classify(buffer);
                if (verdict != Verdict.NeedMore || result.IsCompleted || result.IsCanceled)
                {
                    input.AdvanceTo(buffer.Start);
                    return verdict == Verdict.NeedMore ? Verdict.Http : verdict;
                }

                // Not enough yet: mark everything examined, so the next read waits for more.
                input.AdvanceTo(buffer.Start, buffer.End);
                if (!someArrived && !buffer.IsEmpty)
                {
                    someArrived = true;
                    timeout.CancelAfter(limits.RequestHeadersTimeout);
                }
            }
        }
        catch (Exception exception) when (exception is OperationCanceledException or IOException or ConnectionResetException
            or ConnectionAbortedException or ObjectDisposedException)
        {
            return null;
        }
    }
}

internal static partial class SharingLog
{
    [LoggerMessage(2110, LogLevel.Debug, "HTTPS connection {ConnectionId} is a TURN client ({How}): handed to the TURN server")]
    public static partial void HandedToTurn(ILogger logger, string connectionId, string how);

    [LoggerMessage(2111, LogLevel.Debug, "HTTPS connection {ConnectionId} sent too little to tell TURN from HTTP in time; closed")]
    public static partial void FirstBytesTimedOut(ILogger logger, string connectionId);
}
