using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace Parley.Stun.Tests;

/// <summary>Header, type encoding, transaction IDs, transport addresses, integrity rules and the writer's limits.</summary>
public class MessageTests
{
    private static readonly StunTransactionId s_id = StunTransactionId.Read(Convert.FromHexString("0102030405060708090a0b0c"));
    private static readonly byte[] s_key = StunIntegrity.DeriveLongTermKey(StunPasswordAlgorithm.Md5, "alice", "parley.test", "secret");

    [Theory]
    [InlineData(StunMethod.Binding, StunClass.Request, 0x0001)]
    [InlineData(StunMethod.Binding, StunClass.SuccessResponse, 0x0101)]
    [InlineData(StunMethod.Binding, StunClass.ErrorResponse, 0x0111)]
    [InlineData(StunMethod.Allocate, StunClass.Request, 0x0003)]
    [InlineData(StunMethod.Allocate, StunClass.ErrorResponse, 0x0113)]
    [InlineData(StunMethod.Refresh, StunClass.SuccessResponse, 0x0104)]
    [InlineData(StunMethod.Send, StunClass.Indication, 0x0016)]
    [InlineData(StunMethod.Data, StunClass.Indication, 0x0017)]
    [InlineData(StunMethod.CreatePermission, StunClass.Request, 0x0008)]
    [InlineData(StunMethod.ChannelBind, StunClass.SuccessResponse, 0x0109)]
    [InlineData((StunMethod)0xFFF, StunClass.ErrorResponse, 0x3FFF)]
    public void TypeInterleavesMethodAndClass(StunMethod method, StunClass @class, ushort value)
    {
        var type = new StunMessageType(method, @class);
        Assert.Equal(value, type.Value);
        Assert.Equal(type, StunMessageType.FromValue(value));
    }

    [Fact]
    public void EveryTypeValueRoundTrips()
    {
        for (int value = 0; value < 0x4000; value++)
        {
            Assert.Equal(value, StunMessageType.FromValue((ushort)value).Value);
        }
    }

    [Fact]
    public void TransactionIdsAreRandomAndRoundTrip()
    {
        StunTransactionId a = StunTransactionId.NewRandom(), b = StunTransactionId.NewRandom();
        Assert.NotEqual(a, b);
        var bytes = new byte[12];
        a.CopyTo(bytes);
        Assert.Equal(a, StunTransactionId.Read(bytes));
        Assert.Equal(Convert.ToHexStringLower(bytes), a.ToString());
        Assert.Equal("0102030405060708090a0b0c", s_id.ToString());
    }

    [Theory]
    [InlineData("192.0.2.1:32853")]
    [InlineData("[2001:db8:1234:5678:11:2233:4455:6677]:32853")]
    [InlineData("[::ffff:10.0.0.1]:1")]
    public void TransportAddressesConvert(string text)
    {
        var endPoint = IPEndPoint.Parse(text);
        var address = TransportAddress.FromIPEndPoint(endPoint);
        Assert.Equal(endPoint, address.ToIPEndPoint());
        Assert.Equal(endPoint.ToString(), address.ToString());

        SocketAddress serialized = endPoint.Serialize();
        Assert.True(TransportAddress.TryRead(serialized, out TransportAddress fromSocket));
        Assert.Equal(address, fromSocket);

        var target = new SocketAddress(AddressFamily.InterNetworkV6);
        Assert.True(address.TryWriteTo(target));
        Assert.Equal(serialized.Family, target.Family);
        Assert.Equal(serialized.Size, target.Size);
        Assert.Equal(serialized.Buffer.Span[..serialized.Size].ToArray(), target.Buffer.Span[..target.Size].ToArray());
    }

    [Fact]
    public void TransportAddressesMapBetweenFamilies()
    {
        var v4 = TransportAddress.FromIPEndPoint(IPEndPoint.Parse("10.1.2.3:4000"));
        TransportAddress mapped = v4.MapToIPv6();
        Assert.True(mapped.IsIPv4MappedToIPv6);
        Assert.Equal(IPEndPoint.Parse("[::ffff:10.1.2.3]:4000"), mapped.ToIPEndPoint());
        Assert.Equal(v4, mapped.MapToIPv4());
        Assert.Equal(v4.WithoutPort(), v4.WithPort(9).WithoutPort());
        Assert.NotEqual(v4, v4.WithPort(4001));
        Assert.False(new TransportAddress().TryWriteTo(new SocketAddress(AddressFamily.InterNetworkV6)));
        Assert.False(TransportAddress.FromIPEndPoint(IPEndPoint.Parse("[::1]:1")).TryWriteTo(new SocketAddress(AddressFamily.InterNetwork)));
    }

    [Fact]
    public void AttributesAfterMessageIntegrityAreIgnored()
    {
        // RFC 8489 §14.5: everything after MESSAGE-INTEGRITY but MESSAGE-INTEGRITY-SHA256 and FINGERPRINT is ignored.
        var buffer = new byte[128];
        var writer = new StunMessageWriter(buffer, StunMessageType.RefreshRequest, s_id);
        writer.WriteLifetime(600);
        writer.WriteMessageIntegrity(s_key);
        int length = writer.Length;
        byte[] extra = [.. buffer[..length], 0x00, 0x0D, 0x00, 0x04, 0, 0, 0, 0, 0x00, 0x06, 0x00, 0x01, (byte)'x', 0, 0, 0];
        BinaryPrimitives.WriteUInt16BigEndian(extra.AsSpan(2), (ushort)(extra.Length - StunHeader.Length));

        Assert.True(StunMessage.TryRead(extra, out StunMessage message).IsComplete);
        Assert.True(message.VerifyMessageIntegrity(s_key)); // the length field is adjusted back to end at MI
        Assert.True(message.TryGetLifetime(out uint lifetime));
        Assert.Equal(600u, lifetime); // the first LIFETIME, not the ignored one after MI
        Assert.False(message.HasAttribute(StunAttributeType.Username));
        int all = 0;
        foreach (StunAttribute _ in message.EnumerateAll())
        {
            all++;
        }

        Assert.Equal(4, all);
    }

    [Fact]
    public void IntegrityVerifiesWithFingerprintAfterIt()
    {
        var buffer = new byte[128];
        var writer = new StunMessageWriter(buffer, StunMessageType.AllocateRequest, s_id);
        writer.WriteRequestedTransport(17);
        writer.WriteMessageIntegrity(s_key);
        writer.WriteFingerprint();
        Assert.True(StunMessage.TryRead(writer.Written, out StunMessage message).IsComplete);
        Assert.True(message.VerifyMessageIntegrity(s_key));
        Assert.True(message.VerifyFingerprint());

        byte[] tampered = writer.Written.ToArray();
        tampered[24] ^= 1; // REQUESTED-TRANSPORT's protocol
        Assert.True(StunMessage.TryRead(tampered, out StunMessage bad).IsComplete);
        Assert.False(bad.VerifyMessageIntegrity(s_key));
        Assert.False(bad.VerifyFingerprint());
    }

    [Fact]
    public void TruncatedSha256IntegrityVerifies()
    {
        // RFC 8489 §14.6: MESSAGE-INTEGRITY-SHA256 may be truncated to 16..32 bytes in steps of four.
        byte[] key = StunIntegrity.DeriveLongTermKey(StunPasswordAlgorithm.Sha256, "alice", "parley.test", "secret");
        var buffer = new byte[128];
        var writer = new StunMessageWriter(buffer, StunMessageType.BindingRequest, s_id);
        writer.WriteUsername("alice"u8);
        int offset = writer.Length;
        StunHeader.WriteMessageLength(buffer, offset + 4 + 16 - StunHeader.Length);
        var mac = new byte[32];
        System.Security.Cryptography.HMACSHA256.HashData(key, buffer.AsSpan(0, offset), mac);
        writer.WriteAttribute(StunAttributeType.MessageIntegritySha256, mac.AsSpan(0, 16));

        Assert.True(StunMessage.TryRead(writer.Written, out StunMessage message).IsComplete);
        Assert.True(message.VerifyMessageIntegritySha256(key));
        Assert.False(message.VerifyMessageIntegritySha256(s_key));
    }

    [Fact]
    public void UnknownComprehensionRequiredAttributesAreCollectedOnce()
    {
        var buffer = new byte[128];
        var writer = new StunMessageWriter(buffer, StunMessageType.AllocateRequest, s_id);
        writer.WriteAttribute((StunAttributeType)0x0031, [1]);
        writer.WriteAttribute((StunAttributeType)0x8099, [2]); // comprehension-optional: ignored
        writer.WriteAttribute((StunAttributeType)0x0031, [3]);
        writer.WriteAttribute((StunAttributeType)0x7FFF, []);
        writer.WriteRequestedTransport(17);
        Assert.True(StunMessage.TryRead(writer.Written, out StunMessage message).IsComplete);

        var unknown = new StunAttributeType[4];
        Assert.Equal(2, message.GetUnknownComprehensionRequired(unknown));
        Assert.Equal([(StunAttributeType)0x0031, (StunAttributeType)0x7FFF], unknown[..2]);
        Assert.Equal(1, message.GetUnknownComprehensionRequired(new StunAttributeType[1])); // bounded by the destination

        // ...and the 420 answer carries them (RFC 8489 §6.3.1.1).
        var answer = new StunMessageWriter(new byte[64], message.Type.ErrorResponse, message.TransactionId);
        answer.WriteErrorCode(StunErrorCode.UnknownAttribute);
        answer.WriteUnknownAttributes(unknown.AsSpan(0, 2));
        Assert.True(StunMessage.TryRead(answer.Written, out StunMessage response).IsComplete);
        Assert.Equal(2, response.GetUnknownAttributes(new StunAttributeType[2]));
    }

    [Fact]
    public void WriterReportsOverflowInsteadOfThrowing()
    {
        var buffer = new byte[40];
        var writer = new StunMessageWriter(buffer, StunMessageType.SendIndication, s_id);
        writer.WriteLifetime(1);
        Assert.False(writer.HasOverflowed);
        writer.WriteData(new byte[100]);
        Assert.True(writer.HasOverflowed);
        writer.WriteFingerprint(); // skipped
        Assert.Equal(28, writer.Length);
        Assert.True(StunMessage.TryRead(writer.Written, out _).IsComplete); // what was written is still a message

        var tiny = new StunMessageWriter(new byte[10], StunMessageType.BindingRequest, s_id);
        Assert.True(tiny.HasOverflowed);
        Assert.Equal(0, tiny.Length);
    }

    [Fact]
    public void WriterRejectsCallerBugs()
    {
        var buffer = new byte[128];
        Assert.Throws<ArgumentOutOfRangeException>(() => new StunMessageWriter(buffer, StunMessageType.BindingRequest, s_id).WriteErrorCode(200));
        Assert.Throws<ArgumentOutOfRangeException>(() => new StunMessageWriter(buffer, StunMessageType.BindingRequest, s_id).WriteReservationToken(new byte[7]));
        Assert.Throws<InvalidOperationException>(() =>
        {
            var writer = new StunMessageWriter(buffer, StunMessageType.BindingRequest, s_id);
            writer.WriteMessageIntegrity(s_key);
            writer.WriteLifetime(1);
        });
        Assert.Throws<InvalidOperationException>(() =>
        {
            var writer = new StunMessageWriter(buffer, StunMessageType.BindingRequest, s_id);
            writer.WriteFingerprint();
            writer.WriteFingerprint();
        });
    }

    [Fact]
    public void TrailingBytesAfterAMessageAreLeftToTheCaller()
    {
        byte[] datagram = [.. Rfc5769Vectors.SampleIPv4Response, 0xDE, 0xAD];
        Assert.Equal(ReadResult.Complete(80), StunMessage.TryRead(datagram, out StunMessage message));
        Assert.Equal(80, message.Bytes.Length);
        Assert.True(message.VerifyFingerprint());
    }
}
