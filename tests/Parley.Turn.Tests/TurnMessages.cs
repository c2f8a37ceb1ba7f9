using System.Text;
using Parley.Stun;

namespace Parley.Turn.Tests;

/// <summary>Writes attributes of a request under construction.</summary>
public delegate void AttributeWriter(ref StunMessageWriter writer);

/// <summary>Long-term credentials as a client holds them after the first 401.</summary>
public sealed record ClientCredentials(string Username, string Password, string Realm)
{
    public byte[] Nonce { get; set; } = [];

    public byte[] Key => StunIntegrity.DeriveLongTermKey(StunPasswordAlgorithm.Md5, Username, Realm, Password);
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
            writer.WriteText(StunAttributeType.Username, credentials.Username);
            writer.WriteText(StunAttributeType.Realm, credentials.Realm);
            writer.WriteNonce(credentials.Nonce);
            writer.WriteMessageIntegrity(credentials.Key);
        }

        if (fingerprint)
        {
            writer.WriteFingerprint();
        }

        Assert.False(writer.HasOverflowed);
        return writer.Written.ToArray();
    }

    public static byte[] Allocate(ClientCredentials? credentials, StunTransactionId? id = null, AttributeWriter? extra = null, byte transport = 17) =>
        Build(StunMessageType.AllocateRequest, (ref StunMessageWriter w) =>
        {
            w.WriteRequestedTransport(transport);
            extra?.Invoke(ref w);
        }, credentials, id);

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
