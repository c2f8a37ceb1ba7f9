using System.Text;
using Parley.Stun;

namespace Parley.Turn.Tests;

/// <summary>Writes attributes of a request under construction.</summary>
public delegate void AttributeWriter(ref StunMessageWriter writer);

/// <summary>Long-term credentials as a client holds them after the first 401.</summary>
public sealed record ClientCredentials(string Username, string Password, string Realm)
{
    public byte[] Nonce { get; set; } = [];

    /// <summary>
    /// Take up an offer of SHA-256 (RFC 8489 §9.2.5): after a challenge with PASSWORD-ALGORITHMS naming SHA-256, echo
    /// the list, choose SHA-256 and protect requests with MESSAGE-INTEGRITY-SHA256. False: a classic (browser) client.
    /// </summary>
    public bool PreferSha256 { get; init; }

    /// <summary>The PASSWORD-ALGORITHMS value sent back (as received), or null for none.</summary>
    public byte[]? PasswordAlgorithms { get; set; }

    /// <summary>The PASSWORD-ALGORITHM sent, or null for none (the key is then MD5).</summary>
    public StunPasswordAlgorithm? PasswordAlgorithm { get; set; }

    /// <summary>Protect requests with MESSAGE-INTEGRITY-SHA256 instead of MESSAGE-INTEGRITY.</summary>
    public bool IntegritySha256 { get; set; }

    /// <summary>Protect requests with both, MESSAGE-INTEGRITY first (RFC 8489 §14.5, §14.6).</summary>
    public bool BothIntegrities { get; set; }

    /// <summary>The key: SHA-256 when PASSWORD-ALGORITHM names it, else MD5 (also under an unknown algorithm, for tests).</summary>
    public byte[] Key => KeyFor(PasswordAlgorithm == StunPasswordAlgorithm.Sha256 ? StunPasswordAlgorithm.Sha256 : StunPasswordAlgorithm.Md5);

    /// <summary>The key of either algorithm, as the server derives it.</summary>
    public byte[] KeyFor(StunPasswordAlgorithm algorithm) => StunIntegrity.DeriveLongTermKey(algorithm, Username, Realm, Password);

    /// <summary>Takes the nonce of a 401/438 and, with <see cref="PreferSha256"/>, its offer of SHA-256.</summary>
    public void Accept(TurnResponse challenge)
    {
        Nonce = challenge.Nonce ?? [];
        if (!PreferSha256)
        {
            return;
        }

        bool offered = challenge.PasswordAlgorithmList.Contains(StunPasswordAlgorithm.Sha256);
        PasswordAlgorithms = offered ? challenge.PasswordAlgorithmsValue : null;
        PasswordAlgorithm = offered ? StunPasswordAlgorithm.Sha256 : null;
        IntegritySha256 = offered;
    }
}

/// <summary>A response, copied out of the receive buffer.</summary>
public sealed record TurnResponse(byte[] Bytes)
{
    public StunMessage Message
    {
        get
        {
            StunMessage.TryRead(Bytes, out StunMessage message);
            return message;
        }
    }

    public StunClass Class => Message.Class;

    public StunMethod Method => Message.Method;

    public StunTransactionId TransactionId => Message.TransactionId;

    public int? ErrorCode => Message.TryGetErrorCode(out int code, out _) ? code : null;

    public byte[]? Nonce => Message.TryGetNonce(out ReadOnlySpan<byte> nonce) ? nonce.ToArray() : null;

    public string? Realm => Message.TryGetRealm(out ReadOnlySpan<byte> realm) ? Encoding.UTF8.GetString(realm) : null;

    public uint? Lifetime => Message.TryGetLifetime(out uint seconds) ? seconds : null;

    public TransportAddress? XorMapped => Message.TryGetXorAddress(StunAttributeType.XorMappedAddress, out TransportAddress a) ? a : null;

    public bool HasIntegrity => Message.HasMessageIntegrity;

    public List<TransportAddress> Relayed
    {
        get
        {
            List<TransportAddress> result = [];
            StunMessage message = Message;
            foreach (StunAttribute attribute in message.Enumerate(StunAttributeType.XorRelayedAddress))
            {
                if (message.TryReadXorAddress(attribute, out TransportAddress address))
                {
                    result.Add(address);
                }
            }

            return result;
        }
    }

    public List<StunAttributeType> UnknownAttributes
    {
        get
        {
            var types = new StunAttributeType[16];
            int count = Message.GetUnknownAttributes(types);
            return [.. types.Take(count)];
        }
    }

    public byte[]? ReservationToken => Message.TryGetReservationToken(out ReadOnlySpan<byte> token) ? token.ToArray() : null;

    public bool VerifiesWith(byte[] key) => Message.VerifyMessageIntegrity(key);

    public bool HasIntegritySha256 => Message.HasMessageIntegritySha256;

    public bool VerifiesSha256With(byte[] key) => Message.VerifyMessageIntegritySha256(key);

    /// <summary>The PASSWORD-ALGORITHMS value as received, or null.</summary>
    public byte[]? PasswordAlgorithmsValue => Message.TryGetAttribute(StunAttributeType.PasswordAlgorithms, out ReadOnlySpan<byte> value) ? value.ToArray() : null;

    public List<StunPasswordAlgorithm> PasswordAlgorithmList
    {
        get
        {
            List<StunPasswordAlgorithm> result = [];
            if (Message.TryGetPasswordAlgorithms(out PasswordAlgorithmEnumerator algorithms))
            {
                foreach (StunPasswordAlgorithm algorithm in algorithms)
                {
                    result.Add(algorithm);
                }
            }

            return result;
        }
    }

    public override string ToString() => $"{Message.Type} {ErrorCode}";
}

/// <summary>Builds STUN/TURN client messages with the codec.</summary>
public static class TurnMessages
{
    public static byte[] Build(StunMessageType type, AttributeWriter? attributes = null, ClientCredentials? credentials = null,
        StunTransactionId? transactionId = null, bool fingerprint = false)
    {
        var buffer = new byte[70000];
        var writer = new StunMessageWriter(buffer, type, transactionId ?? StunTransactionId.NewRandom());
        attributes?.Invoke(ref writer);
        if (credentials is not null)
        {
            WriteCredentials(ref writer, credentials);
            if (credentials.BothIntegrities || !credentials.IntegritySha256)
            {
                writer.WriteMessageIntegrity(credentials.Key);
            }

            if (credentials.BothIntegrities || credentials.IntegritySha256)
            {
                writer.WriteMessageIntegritySha256(credentials.Key);
            }
        }

        if (fingerprint)
        {
            writer.WriteFingerprint();
        }

        Assert.False(writer.HasOverflowed);
        return writer.Written.ToArray();
    }

    /// <summary>
    /// The credential attributes before the integrity: USERNAME, REALM, NONCE, and PASSWORD-ALGORITHMS and
    /// PASSWORD-ALGORITHM when the client took up an offer (for tests that write the integrity themselves).
    /// </summary>
    public static void WriteCredentials(ref StunMessageWriter writer, ClientCredentials credentials)
    {
        writer.WriteText(StunAttributeType.Username, credentials.Username);
        writer.WriteText(StunAttributeType.Realm, credentials.Realm);
        writer.WriteNonce(credentials.Nonce);
        if (credentials.PasswordAlgorithms is { } offered)
        {
            writer.WriteAttribute(StunAttributeType.PasswordAlgorithms, offered);
        }

        if (credentials.PasswordAlgorithm is { } chosen)
        {
            writer.WritePasswordAlgorithm(chosen);
        }
    }

    public static byte[] Allocate(ClientCredentials? credentials, StunTransactionId? id = null, AttributeWriter? extra = null, byte transport = 17) =>
        Build(StunMessageType.AllocateRequest, (ref StunMessageWriter w) =>
        {
            w.WriteRequestedTransport(transport);
            extra?.Invoke(ref w);
        }, credentials, id);

    /// <summary>
    /// The Allocate a client sends next: without credentials before the first challenge, else authenticated. Over UDP a
    /// challenge is at most as large as the request (or 80 bytes): a client that wants the SHA-256 offer makes its
    /// first request large enough for it (here with a SOFTWARE attribute), as Chromium's 28-byte one is not.
    /// </summary>
    public static byte[] NextAllocate(ClientCredentials credentials, AttributeWriter? extra = null) =>
        credentials.Nonce.Length != 0 ? Allocate(credentials, extra: extra)
        : !credentials.PreferSha256 ? Allocate(null, extra: extra)
        : Allocate(null, extra: (ref StunMessageWriter w) =>
        {
            extra?.Invoke(ref w);
            w.WriteText(StunAttributeType.Software, "Parley test client, RFC 8489 SHA-256; long enough for the offer to fit the limit");
        });

    public static byte[] Refresh(ClientCredentials credentials, uint? lifetime = null) =>
        Build(StunMessageType.RefreshRequest, (ref StunMessageWriter w) =>
        {
            if (lifetime is uint seconds)
            {
                w.WriteLifetime(seconds);
            }
        }, credentials);

    public static byte[] CreatePermission(ClientCredentials credentials, params TransportAddress[] peers) =>
        Build(StunMessageType.CreatePermissionRequest, (ref StunMessageWriter w) =>
        {
            foreach (TransportAddress peer in peers)
            {
                w.WriteXorAddress(StunAttributeType.XorPeerAddress, peer);
            }
        }, credentials);

    public static byte[] ChannelBind(ClientCredentials credentials, ushort channel, TransportAddress peer) =>
        Build(StunMessageType.ChannelBindRequest, (ref StunMessageWriter w) =>
        {
            w.WriteChannelNumber(channel);
            w.WriteXorAddress(StunAttributeType.XorPeerAddress, peer);
        }, credentials);

    public static byte[] Send(TransportAddress peer, byte[] data) =>
        Build(StunMessageType.SendIndication, (ref StunMessageWriter w) =>
        {
            w.WriteXorAddress(StunAttributeType.XorPeerAddress, peer);
            w.WriteData(data);
        });

    public static byte[] ChannelDataMessage(ushort channel, byte[] data, bool pad = false)
    {
        var buffer = new byte[ChannelData.GetEncodedLength(data.Length, pad)];
        Assert.True(ChannelData.TryWrite(buffer, channel, data, pad, out _));
        return buffer;
    }

    public static byte[] Binding() => Build(StunMessageType.BindingRequest);

    /// <summary>Reads a Data indication: the peer and the data.</summary>
    public static (TransportAddress Peer, byte[] Data) ReadDataIndication(byte[] packet)
    {
        Assert.True(StunMessage.TryRead(packet, out StunMessage message).IsComplete);
        Assert.Equal(StunMessageType.DataIndication, message.Type);
        Assert.True(message.TryGetXorAddress(StunAttributeType.XorPeerAddress, out TransportAddress peer));
        Assert.True(message.TryGetData(out ReadOnlySpan<byte> data));
        return (peer, data.ToArray());
    }

    /// <summary>Reads a ChannelData message: the channel and the data.</summary>
    public static (ushort Channel, byte[] Data) ReadChannelData(byte[] packet)
    {
        Assert.True(ChannelData.TryRead(packet, out ChannelData channelData).IsComplete);
        return (channelData.ChannelNumber, channelData.Data.ToArray());
    }

    public static TransportAddress Address(string ip, int port) =>
        TransportAddress.FromIPEndPoint(new System.Net.IPEndPoint(System.Net.IPAddress.Parse(ip), port));
}
