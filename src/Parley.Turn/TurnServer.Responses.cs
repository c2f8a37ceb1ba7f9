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
        public bool IntegritySha256; // the request was verified by MESSAGE-INTEGRITY-SHA256: so are the responses
    }

    // RFC 8489 §9.2.4/§14.11: SHA-256 first (preferred), then MD5, neither with parameters. The bytes of the
    // PASSWORD-ALGORITHMS value every challenge sends, which a request must echo exactly.
    private static ReadOnlySpan<byte> OfferedPasswordAlgorithms => [0x00, 0x02, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00];

    private static readonly StunPasswordAlgorithm[] s_offeredPasswordAlgorithms = [StunPasswordAlgorithm.Sha256, StunPasswordAlgorithm.Md5];

    private static bool IsOffered(StunPasswordAlgorithm algorithm) => Array.IndexOf(s_offeredPasswordAlgorithms, algorithm) >= 0;

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

    // RFC 8489 §9.2.4: 401 or 438 with REALM and a fresh NONCE, never integrity-protected; with the password
    // algorithms offered (§9.2.1), the nonce carries the cookie with the "Password algorithms" bit and the challenge
    // PASSWORD-ALGORITHMS. Kept short (no SOFTWARE, a 16-character nonce after the cookie) and without the reason
    // phrase when that is what makes it fit the amplification limit. Over UDP a request too small for the offer
    // (Chromium's first Allocate is 28 bytes) gets the challenge without it, byte for byte what it got before the
    // offer existed: that nonce has no cookie, so the client is held to MD5 (§9.2.4).
    private void SendChallenge(ref RequestContext context, int code)
    {
        Log.RequestFailed(_logger, context.Request.Method.ToString(), context.FiveTuple.Client.ToString(), code, context.Allocation?.Id ?? 0);
        Span<byte> nonce = stackalloc byte[NonceService.MaxLength];
        Span<byte> buffer = stackalloc byte[MaxResponseLength];
        context.Key = null;
        int nonceLength = 0;
        for (int attempt = _options.OfferPasswordAlgorithms ? 0 : 2; attempt < 4; attempt++)
        {
            bool offer = attempt < 2;
            if (attempt is 0 or 2)
            {
                nonceLength = _nonces.Write(context.FiveTuple.Client, offer ? SecurityFeatures.PasswordAlgorithms : SecurityFeatures.None, nonce);
            }

            var writer = new StunMessageWriter(buffer, context.Request.Type.ErrorResponse, context.Request.TransactionId);
            writer.WriteErrorCode(code, attempt % 2 == 0 ? StunErrorCode.GetDefaultReasonPhrase(code) : []);
            writer.WriteRealm(_credentials.Realm);
            writer.WriteNonce(nonce[..nonceLength]);
            if (offer)
            {
                writer.WritePasswordAlgorithms(s_offeredPasswordAlgorithms);
            }

            if (Finish(ref context, writer, authenticated: false, logDrop: attempt == 3))
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
    /// Finishes and sends a response: SOFTWARE and MESSAGE-INTEGRITY (or MESSAGE-INTEGRITY-SHA256, as the request had)
    /// when authenticated, FINGERPRINT when the request had one. An unauthenticated response over UDP must not be larger than the request (or than
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

            if (context.IntegritySha256)
            {
                writer.WriteMessageIntegritySha256(context.Key); // RFC 8489 §9.2.4: as the request was protected
            }
            else
            {
                writer.WriteMessageIntegrity(context.Key);
            }
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
