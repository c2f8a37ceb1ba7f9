using System.Net;
using System.Text;

namespace Parley.Stun.Tests;

/// <summary>Every attribute type the codec knows, written by <see cref="StunMessageWriter"/> and read back.</summary>
public class AttributeRoundTripTests
{
    private static readonly StunTransactionId s_id = StunTransactionId.NewRandom();
    private static readonly TransportAddress s_v4 = TransportAddress.FromIPEndPoint(IPEndPoint.Parse("203.0.113.7:49152"));
    private static readonly TransportAddress s_v6 = TransportAddress.FromIPEndPoint(IPEndPoint.Parse("[2001:db8::42]:3478"));

    private delegate void Write(ref StunMessageWriter writer);

    private delegate void Check(StunMessage message);

    private static StunMessage RoundTrip(byte[] buffer, Write write, StunMessageType? type = null)
    {
        var writer = new StunMessageWriter(buffer, type ?? StunMessageType.AllocateRequest, s_id);
        write(ref writer);
        Assert.False(writer.HasOverflowed);
        int length = writer.Length;
        Assert.Equal(0, length % 4);
        Assert.Equal(ReadResult.Complete(length), StunMessage.TryRead(buffer.AsSpan(0, length), out StunMessage message));
        Assert.Equal(s_id, message.TransactionId);
        return message;
    }

    [Theory]
    [InlineData(StunAttributeType.XorMappedAddress, true)]
    [InlineData(StunAttributeType.XorMappedAddress, false)]
    [InlineData(StunAttributeType.XorPeerAddress, true)]
    [InlineData(StunAttributeType.XorPeerAddress, false)]
    [InlineData(StunAttributeType.XorRelayedAddress, true)]
    [InlineData(StunAttributeType.XorRelayedAddress, false)]
    public void XorAddresses(StunAttributeType type, bool ipv4)
    {
        TransportAddress address = ipv4 ? s_v4 : s_v6;
        StunMessage message = RoundTrip(new byte[128], (ref StunMessageWriter w) => w.WriteXorAddress(type, address));
        Assert.True(message.TryGetXorAddress(type, out TransportAddress read));
        Assert.Equal(address, read);
        // XOR really happened: the plain decoding of the same bytes is a different address.
        Assert.True(message.TryGetAttribute(type, out ReadOnlySpan<byte> raw));
        Assert.True(StunAddressCodec.TryRead(raw, out TransportAddress plain));
        Assert.NotEqual(address, plain);
    }

    [Theory]
    [InlineData(StunAttributeType.MappedAddress, true)]
    [InlineData(StunAttributeType.MappedAddress, false)]
    [InlineData(StunAttributeType.AlternateServer, true)]
    [InlineData(StunAttributeType.AlternateServer, false)]
    public void PlainAddresses(StunAttributeType type, bool ipv4)
    {
        TransportAddress address = ipv4 ? s_v4 : s_v6;
        StunMessage message = RoundTrip(new byte[128], (ref StunMessageWriter w) => w.WriteAddress(type, address));
        Assert.True(message.TryGetAddress(type, out TransportAddress read));
        Assert.Equal(address, read);
    }

    [Fact]
    public void SeveralXorPeerAddresses()
    {
        StunMessage message = RoundTrip(new byte[128], (ref StunMessageWriter w) =>
        {
            w.WriteXorAddress(StunAttributeType.XorPeerAddress, s_v4);
            w.WriteXorAddress(StunAttributeType.XorPeerAddress, s_v6);
        }, StunMessageType.CreatePermissionRequest);
        var peers = new List<TransportAddress>();
        foreach (StunAttribute attribute in message.Enumerate(StunAttributeType.XorPeerAddress))
        {
            Assert.True(message.TryReadXorAddress(attribute, out TransportAddress peer));
            peers.Add(peer);
        }

        Assert.Equal([s_v4, s_v6], peers);
    }

    [Theory]
    [InlineData(StunAttributeType.Username, "1700000000:alice")]
    [InlineData(StunAttributeType.Realm, "parley.test")]
    [InlineData(StunAttributeType.Nonce, "obMatJos2AAACf//499k954d6OL34oL9FSTvy64sA")]
    [InlineData(StunAttributeType.Software, "Parley \u00e9t\u00e9")]
    public void Text(StunAttributeType type, string text)
    {
        StunMessage message = RoundTrip(new byte[128], (ref StunMessageWriter w) => w.WriteText(type, text));
        ReadOnlySpan<byte> read;
        bool found = type switch
        {
            StunAttributeType.Username => message.TryGetUsername(out read),
            StunAttributeType.Realm => message.TryGetRealm(out read),
            StunAttributeType.Nonce => message.TryGetNonce(out read),
            _ => message.TryGetSoftware(out read),
        };
        Assert.True(found);
        Assert.Equal(text, Encoding.UTF8.GetString(read));
    }

    [Fact]
    public void TextFromBytes()
    {
        StunMessage message = RoundTrip(new byte[128], (ref StunMessageWriter w) =>
        {
            w.WriteUsername("u"u8);
            w.WriteRealm("r"u8);
            w.WriteNonce("n"u8);
            w.WriteSoftware("s"u8);
        });
        Assert.True(message.TryGetUsername(out ReadOnlySpan<byte> username) && username.SequenceEqual("u"u8));
        Assert.True(message.TryGetRealm(out ReadOnlySpan<byte> realm) && realm.SequenceEqual("r"u8));
        Assert.True(message.TryGetNonce(out ReadOnlySpan<byte> nonce) && nonce.SequenceEqual("n"u8));
        Assert.True(message.TryGetSoftware(out ReadOnlySpan<byte> software) && software.SequenceEqual("s"u8));
    }

    [Theory]
    [InlineData(StunErrorCode.TryAlternate)]
    [InlineData(StunErrorCode.Unauthorized)]
    [InlineData(StunErrorCode.StaleNonce)]
    [InlineData(StunErrorCode.AllocationQuotaReached)]
    [InlineData(StunErrorCode.InsufficientCapacity)]
    [InlineData(699)]
    public void ErrorCode(int code)
    {
        StunMessage message = RoundTrip(new byte[128], (ref StunMessageWriter w) => w.WriteErrorCode(code),
            StunMessageType.AllocateRequest.ErrorResponse);
        Assert.True(message.TryGetErrorCode(out int read, out ReadOnlySpan<byte> reason));
        Assert.Equal(code, read);
        Assert.Equal(StunErrorCode.GetDefaultReasonPhrase(code).ToArray(), reason.ToArray());
    }

    [Fact]
    public void ErrorCodeWithOwnReason()
    {
        StunMessage message = RoundTrip(new byte[128], (ref StunMessageWriter w) => w.WriteErrorCode(403, "Peer address denied"u8));
        Assert.True(message.TryGetErrorCode(out int code, out ReadOnlySpan<byte> reason));
        Assert.Equal(403, code);
        Assert.Equal("Peer address denied", Encoding.UTF8.GetString(reason));
    }

    [Fact]
    public void AddressErrorCode()
    {
        StunMessage message = RoundTrip(new byte[128], (ref StunMessageWriter w) =>
            w.WriteAddressErrorCode(StunAddressFamily.IPv6, StunErrorCode.AddressFamilyNotSupported));
        Assert.True(message.TryGetAddressErrorCode(out StunAddressFamily family, out int code, out ReadOnlySpan<byte> reason));
        Assert.Equal(StunAddressFamily.IPv6, family);
        Assert.Equal(440, code);
        Assert.Equal("Address Family not Supported", Encoding.UTF8.GetString(reason));
    }

    [Fact]
    public void UnknownAttributes()
    {
        StunAttributeType[] types = [(StunAttributeType)0x0031, (StunAttributeType)0x7FFE, (StunAttributeType)0x0002];
        StunMessage message = RoundTrip(new byte[128], (ref StunMessageWriter w) => w.WriteUnknownAttributes(types));
        var read = new StunAttributeType[8];
        Assert.Equal(3, message.GetUnknownAttributes(read));
        Assert.Equal(types, read[..3]);
    }

    [Theory]
    [InlineData(0u)]
    [InlineData(600u)]
    [InlineData(uint.MaxValue)]
    public void Lifetime(uint seconds)
    {
        StunMessage message = RoundTrip(new byte[64], (ref StunMessageWriter w) => w.WriteLifetime(seconds));
        Assert.True(message.TryGetLifetime(out uint read));
        Assert.Equal(seconds, read);
    }

    [Fact]
    public void ChannelNumber()
    {
        StunMessage message = RoundTrip(new byte[64], (ref StunMessageWriter w) => w.WriteChannelNumber(0x4ABC));
        Assert.True(message.TryGetChannelNumber(out ushort read));
        Assert.Equal(0x4ABC, read);
    }

    [Fact]
    public void RequestedTransport()
    {
        StunMessage message = RoundTrip(new byte[64], (ref StunMessageWriter w) => w.WriteRequestedTransport(17));
        Assert.True(message.TryGetRequestedTransport(out byte protocol));
        Assert.Equal(17, protocol);
    }

    [Theory]
    [InlineData(StunAddressFamily.IPv4)]
    [InlineData(StunAddressFamily.IPv6)]
    public void AddressFamilies(StunAddressFamily family)
    {
        StunMessage message = RoundTrip(new byte[64], (ref StunMessageWriter w) =>
        {
            w.WriteRequestedAddressFamily(family);
            w.WriteAdditionalAddressFamily(family);
        });
        Assert.True(message.TryGetRequestedAddressFamily(out StunAddressFamily requested));
        Assert.True(message.TryGetAdditionalAddressFamily(out StunAddressFamily additional));
        Assert.Equal(family, requested);
        Assert.Equal(family, additional);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void EvenPort(bool reserve)
    {
        StunMessage message = RoundTrip(new byte[64], (ref StunMessageWriter w) => w.WriteEvenPort(reserve));
        Assert.True(message.TryGetEvenPort(out bool read));
        Assert.Equal(reserve, read);
    }

    [Fact]
    public void DontFragmentAndReservationToken()
    {
        byte[] token = [1, 2, 3, 4, 5, 6, 7, 8];
        StunMessage message = RoundTrip(new byte[64], (ref StunMessageWriter w) =>
        {
            w.WriteDontFragment();
            w.WriteReservationToken(token);
        });
        Assert.True(message.HasDontFragment);
        Assert.True(message.TryGetReservationToken(out ReadOnlySpan<byte> read));
        Assert.Equal(token, read.ToArray());
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(1200)]
    public void Data(int length)
    {
        byte[] data = new byte[length];
        new Random(length).NextBytes(data);
        StunMessage message = RoundTrip(new byte[1300], (ref StunMessageWriter w) =>
        {
            w.WriteXorAddress(StunAttributeType.XorPeerAddress, s_v4);
            w.WriteData(data);
        }, StunMessageType.SendIndication);
        Assert.True(message.TryGetData(out ReadOnlySpan<byte> read));
        Assert.Equal(data, read.ToArray());
    }

    [Fact]
    public void DataReservedInPlace()
    {
        var buffer = new byte[64];
        var writer = new StunMessageWriter(buffer, StunMessageType.DataIndication, s_id);
        Span<byte> area = writer.Reserve(StunAttributeType.Data, 5);
        "hello"u8.CopyTo(area);
        Assert.True(StunMessage.TryRead(writer.Written, out StunMessage message).IsComplete);
        Assert.True(message.TryGetData(out ReadOnlySpan<byte> data));
        Assert.Equal("hello", Encoding.UTF8.GetString(data));
    }

    [Fact]
    public void UserHashAndPasswordAlgorithms()
    {
        byte[] hash = new byte[32];
        StunIntegrity.ComputeUserHash("alice"u8, "parley.test"u8, hash);
        StunMessage message = RoundTrip(new byte[128], (ref StunMessageWriter w) =>
        {
            w.WriteUserHash(hash);
            w.WritePasswordAlgorithm(StunPasswordAlgorithm.Sha256);
            w.WritePasswordAlgorithms([StunPasswordAlgorithm.Sha256, StunPasswordAlgorithm.Md5]);
        });
        Assert.True(message.TryGetUserHash(out ReadOnlySpan<byte> readHash));
        Assert.Equal(hash, readHash.ToArray());
        Assert.True(message.TryGetPasswordAlgorithm(out StunPasswordAlgorithm chosen));
        Assert.Equal(StunPasswordAlgorithm.Sha256, chosen);
        Assert.True(message.TryGetPasswordAlgorithms(out PasswordAlgorithmEnumerator offered));
        var list = new List<StunPasswordAlgorithm>();
        foreach (StunPasswordAlgorithm algorithm in offered)
        {
            list.Add(algorithm);
        }

        Assert.Equal([StunPasswordAlgorithm.Sha256, StunPasswordAlgorithm.Md5], list);
    }

    [Fact]
    public void IntegrityAndFingerprint()
    {
        byte[] key = StunIntegrity.DeriveLongTermKey(StunPasswordAlgorithm.Md5, "alice", "parley.test", "secret");
        byte[] sha256Key = StunIntegrity.DeriveLongTermKey(StunPasswordAlgorithm.Sha256, "alice", "parley.test", "secret");
        StunMessage message = RoundTrip(new byte[128], (ref StunMessageWriter w) =>
        {
            w.WriteLifetime(600);
            w.WriteMessageIntegrity(key);
            w.WriteMessageIntegritySha256(sha256Key);
            w.WriteFingerprint();
        }, StunMessageType.RefreshRequest);
        Assert.True(message.VerifyMessageIntegrity(key));
        Assert.True(message.VerifyMessageIntegritySha256(sha256Key));
        Assert.True(message.VerifyFingerprint());
        Assert.False(message.VerifyMessageIntegrity(sha256Key));
        Assert.False(message.VerifyMessageIntegritySha256(key));
    }
}
