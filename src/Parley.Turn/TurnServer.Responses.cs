using Parley.Stun;

namespace Parley.Turn;

// Writing responses: success and error responses, the 401/438 challenge, and the no-amplification rule.
public sealed partial class TurnServer
{
    /// <summary>One request being handled: where it came from, what it is, and (after authentication) the key.</summary>
    private ref struct RequestContext(ITurnClientTransport transport, in FiveTuple fiveTuple, StunMessage request)
    {
        public ITurnClientTransport Transport = transport;
        public FiveTuple FiveTuple = fiveTuple;
        public StunMessage Request = request;
        public Allocation? Allocation;
        public string? Username;
        public byte[]? Key;
    }

    private void SendError(ref RequestContext context, int code)
    {
        Log.RequestFailed(_logger, context.Request.Method.ToString(), context.FiveTuple.Client.ToString(), code, context.Allocation?.Id ?? 0);
        Span<byte> buffer = stackalloc byte[MaxResponseLength];
        if (!TryWriteError(ref context, buffer, code, withPhrase: true))
        {
            TryWriteError(ref context, buffer, code, withPhrase: false);
        }
    }

    private bool TryWriteError(ref RequestContext context, scoped Span<byte> buffer, int code, bool withPhrase)
    {
        var writer = new StunMessageWriter(buffer, context.Request.Type.ErrorResponse, context.Request.TransactionId);
        writer.WriteErrorCode(code, withPhrase ? StunErrorCode.GetDefaultReasonPhrase(code) : []);
        return Finish(ref context, writer, authenticated: context.Key is not null, logDrop: !withPhrase);
    }

    // RFC 8489 §9.2.4: 401 or 438 with REALM and a fresh NONCE, never integrity-protected. Kept short (no SOFTWARE, a
    // 16-character nonce) and without the reason phrase when that is what makes it fit the amplification limit.
    private void SendChallenge(ref RequestContext context, int code)
    {
        Log.RequestFailed(_logger, context.Request.Method.ToString(), context.FiveTuple.Client.ToString(), code, context.Allocation?.Id ?? 0);
        Span<byte> nonce = stackalloc byte[NonceService.Length];
        int nonceLength = _nonces.Write(context.FiveTuple.Client, nonce);
        Span<byte> buffer = stackalloc byte[MaxResponseLength];
        context.Key = null;
        for (int attempt = 0; attempt < 2; attempt++)
        {
            var writer = new StunMessageWriter(buffer, context.Request.Type.ErrorResponse, context.Request.TransactionId);
            writer.WriteErrorCode(code, attempt == 0 ? StunErrorCode.GetDefaultReasonPhrase(code) : []);
            writer.WriteRealm(_credentials.Realm);
            writer.WriteNonce(nonce[..nonceLength]);
            if (Finish(ref context, writer, authenticated: false, logDrop: attempt == 1))
            {
                return;
            }
        }
    }

    private void SendUnknownAttributes(ref RequestContext context, scoped ReadOnlySpan<StunAttributeType> unknown)
    {
        Log.RequestFailed(_logger, context.Request.Method.ToString(), context.FiveTuple.Client.ToString(), StunErrorCode.UnknownAttribute, context.Allocation?.Id ?? 0);
        Span<byte> buffer = stackalloc byte[MaxResponseLength];
        var writer = new StunMessageWriter(buffer, context.Request.Type.ErrorResponse, context.Request.TransactionId);
        writer.WriteErrorCode(StunErrorCode.UnknownAttribute);
        writer.WriteUnknownAttributes(unknown);
        Finish(ref context, writer, authenticated: context.Key is not null);
    }

    /// <summary>
    /// Finishes and sends a response: SOFTWARE and MESSAGE-INTEGRITY when authenticated, FINGERPRINT when the request
    /// had one. An unauthenticated response over UDP must not be larger than the request (or than
    /// <see cref="TurnOptions.UnauthenticatedResponseFloor"/>): spoofed sources must not make us an amplifier.
    /// False if it was not sent for that reason.
    /// </summary>
    private bool Finish(ref RequestContext context, scoped StunMessageWriter writer, bool authenticated, bool logDrop = true)
    {
        if (authenticated && context.Key is not null)
        {
            if (_software is not null)
            {
                writer.WriteSoftware(_software);
            }

            writer.WriteMessageIntegrity(context.Key);
        }

        if (context.Request.HasFingerprint)
        {
            writer.WriteFingerprint();
        }

        if (writer.HasOverflowed)
        {
            return true; // cannot happen with the attributes written here; nothing sensible to send
        }

        int requestLength = context.Request.Bytes.Length;
        if (!authenticated && context.Transport.Protocol == TurnTransportProtocol.Udp
            && writer.Length > Math.Max(requestLength, _options.UnauthenticatedResponseFloor))
        {
            if (logDrop)
            {
                Log.AmplificationDropped(_logger, context.FiveTuple.Client.ToString(), writer.Length, requestLength, context.Allocation?.Id ?? 0);
            }

            return false;
        }

        context.Transport.Send(writer.Written, context.FiveTuple.Client);
        return true;
    }
}
