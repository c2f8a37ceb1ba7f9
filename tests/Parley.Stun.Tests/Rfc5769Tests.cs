using System.Net;
using System.Text;

namespace Parley.Stun.Tests;

/// <summary>RFC 5769 (and RFC 8489 Appendix B.1): parse, integrity, fingerprint, and byte-exact reproduction.</summary>
public class Rfc5769Tests
{
    private static readonly StunTransactionId s_shortTermId = StunTransactionId.Read(Convert.FromHexString("b7e7a701bc34d686fa87dfae"));
    private static readonly StunTransactionId s_longTermId = StunTransactionId.Read(Convert.FromHexString("78ad3433c6ad72c029da412e"));
    private static readonly byte[] s_shortTermKey = Corpus.Utf8(Rfc5769Vectors.ShortTermPassword);

    [Fact]
    public void SampleRequest_ParsesAndVerifies()
    {
        byte[] bytes = Rfc5769Vectors.SampleRequest;
        Assert.Equal(ReadResult.Complete(108), StunMessage.TryRead(bytes, out StunMessage message));

        Assert.Equal(StunMessageType.BindingRequest, message.Type);
        Assert.Equal(s_shortTermId, message.TransactionId);
        Assert.True(message.TryGetSoftware(out ReadOnlySpan<byte> software));
        Assert.Equal("STUN test client", Encoding.UTF8.GetString(software));
        Assert.True(message.TryGetUsername(out ReadOnlySpan<byte> username));
        Assert.Equal("evtj:h6vY", Encoding.UTF8.GetString(username));
        Assert.True(message.HasAttribute(StunAttributeType.Priority));
        Assert.True(message.HasAttribute(StunAttributeType.IceControlled));

        Assert.True(message.VerifyMessageIntegrity(s_shortTermKey));
        Assert.False(message.VerifyMessageIntegrity("VOkJxbRl1RmTxUk/WvJxBu"u8));
        Assert.True(message.VerifyFingerprint());
        Assert.Equal(0, message.GetUnknownComprehensionRequired(new StunAttributeType[4]));
    }

    [Fact]
    public void SampleRequest_IsReproducedByTheWriter()
    {
        var buffer = new byte[256];
        var writer = new StunMessageWriter(buffer, StunMessageType.BindingRequest, s_shortTermId);
        writer.WriteSoftware("STUN test client"u8);
        writer.WriteAttribute(StunAttributeType.Priority, Convert.FromHexString("6e0001ff"));
        writer.WriteAttribute(StunAttributeType.IceControlled, Convert.FromHexString("932ff9b151263b36"));
        writer.WriteUsername("evtj:h6vY"u8);
        // RFC 5769 pads USERNAME with spaces, which MESSAGE-INTEGRITY covers; our writer pads with zeros (§14 allows any).
        buffer.AsSpan(writer.Length - 3, 3).Fill((byte)' ');
        writer.WriteMessageIntegrity(s_shortTermKey);
        writer.WriteFingerprint();

        Assert.False(writer.HasOverflowed);
        Assert.Equal(Rfc5769Vectors.SampleRequest, writer.Written.ToArray());
    }

    [Theory]
    [InlineData("ipv4", "192.0.2.1")]
    [InlineData("ipv6", "2001:db8:1234:5678:11:2233:4455:6677")]
    public void SampleResponses_ParseVerifyAndAreReproduced(string vector, string address)
    {
        byte[] bytes = vector == "ipv4" ? Rfc5769Vectors.SampleIPv4Response : Rfc5769Vectors.SampleIPv6Response;
        var expected = TransportAddress.FromIPEndPoint(new IPEndPoint(IPAddress.Parse(address), 32853));

        Assert.True(StunMessage.TryRead(bytes, out StunMessage message).IsComplete);
        Assert.Equal(new StunMessageType(StunMethod.Binding, StunClass.SuccessResponse), message.Type);
        Assert.True(message.TryGetXorAddress(StunAttributeType.XorMappedAddress, out TransportAddress mapped));
        Assert.Equal(expected, mapped);
        Assert.True(message.TryGetSoftware(out ReadOnlySpan<byte> software));
        Assert.Equal("test vector", Encoding.UTF8.GetString(software));
        Assert.True(message.VerifyMessageIntegrity(s_shortTermKey));
        Assert.True(message.VerifyFingerprint());

        var buffer = new byte[256];
        var writer = new StunMessageWriter(buffer, new StunMessageType(StunMethod.Binding, StunClass.SuccessResponse), s_shortTermId);
        writer.WriteSoftware("test vector"u8);
        buffer[writer.Length - 1] = (byte)' '; // the RFC's padding byte
        writer.WriteXorAddress(StunAttributeType.XorMappedAddress, expected);
        writer.WriteMessageIntegrity(s_shortTermKey);
        writer.WriteFingerprint();
        Assert.Equal(bytes, writer.Written.ToArray());
    }

    [Fact]
    public void SampleLongTermRequest_VerifiesWithTheSaslPreppedPassword()
    {
        Assert.True(StunMessage.TryRead(Rfc5769Vectors.SampleLongTermRequest, out StunMessage message).IsComplete);
        Assert.Equal(s_longTermId, message.TransactionId);
        Assert.True(message.TryGetUsername(out ReadOnlySpan<byte> username));
        Assert.Equal(Rfc5769Vectors.LongTermUsername, Encoding.UTF8.GetString(username));
        Assert.True(message.TryGetNonce(out ReadOnlySpan<byte> nonce));
        Assert.Equal(Rfc5769Vectors.LongTermNonce, Encoding.UTF8.GetString(nonce));
        Assert.True(message.TryGetRealm(out ReadOnlySpan<byte> realm));
        Assert.Equal(Rfc5769Vectors.LongTermRealm, Encoding.UTF8.GetString(realm));
        Assert.False(message.HasFingerprint);

        // §2.4: the key is MD5(username ":" realm ":" SASLprep(password)); the codec takes prepared strings.
        byte[] key = StunIntegrity.DeriveLongTermKey(StunPasswordAlgorithm.Md5,
            Rfc5769Vectors.LongTermUsername, Rfc5769Vectors.LongTermRealm, Rfc5769Vectors.LongTermPassword);
        Assert.Equal(16, key.Length);
        Assert.True(message.VerifyMessageIntegrity(key));

        byte[] unprepared = StunIntegrity.DeriveLongTermKey(StunPasswordAlgorithm.Md5,
            Rfc5769Vectors.LongTermUsername, Rfc5769Vectors.LongTermRealm, Rfc5769Vectors.LongTermPasswordBeforeSaslPrep);
        Assert.False(message.VerifyMessageIntegrity(unprepared));
    }

    [Fact]
    public void SampleLongTermRequest_IsReproducedByTheWriter()
    {
        byte[] key = StunIntegrity.DeriveLongTermKey(StunPasswordAlgorithm.Md5,
            Rfc5769Vectors.LongTermUsername, Rfc5769Vectors.LongTermRealm, Rfc5769Vectors.LongTermPassword);
        var buffer = new byte[256];
        var writer = new StunMessageWriter(buffer, StunMessageType.BindingRequest, s_longTermId);
        writer.WriteText(StunAttributeType.Username, Rfc5769Vectors.LongTermUsername);
        writer.WriteText(StunAttributeType.Nonce, Rfc5769Vectors.LongTermNonce);
        writer.WriteText(StunAttributeType.Realm, Rfc5769Vectors.LongTermRealm);
        writer.WriteMessageIntegrity(key);
        Assert.Equal(Rfc5769Vectors.SampleLongTermRequest, writer.Written.ToArray());
    }

    [Fact]
    public void Rfc8489SampleSha256Request_ParsesVerifiesAndIsReproduced()
    {
        byte[] bytes = Rfc5769Vectors.SampleSha256Request;
        Assert.True(StunMessage.TryRead(bytes, out StunMessage message).IsComplete);
        Assert.True(message.HasMessageIntegritySha256);
        Assert.False(message.HasMessageIntegrity);
        Assert.True(message.TryGetPasswordAlgorithm(out StunPasswordAlgorithm algorithm));
        Assert.Equal(StunPasswordAlgorithm.Sha256, algorithm);

        Span<byte> userHash = stackalloc byte[StunIntegrity.UserHashLength];
        StunIntegrity.ComputeUserHash(Corpus.Utf8(Rfc5769Vectors.LongTermUsername), Corpus.Utf8(Rfc5769Vectors.LongTermRealm), userHash);
        Assert.True(message.TryGetUserHash(out ReadOnlySpan<byte> received));
        Assert.Equal(userHash.ToArray(), received.ToArray());

        byte[] key = StunIntegrity.DeriveLongTermKey(StunPasswordAlgorithm.Sha256,
            Rfc5769Vectors.LongTermUsername, Rfc5769Vectors.LongTermRealm, Rfc5769Vectors.LongTermPassword);
        Assert.Equal(32, key.Length);
        Assert.True(message.VerifyMessageIntegritySha256(key));

        var buffer = new byte[256];
        var writer = new StunMessageWriter(buffer, StunMessageType.BindingRequest, s_longTermId);
        writer.WriteUserHash(userHash);
        writer.WriteText(StunAttributeType.Nonce, Rfc5769Vectors.Sha256Nonce);
        writer.WriteText(StunAttributeType.Realm, Rfc5769Vectors.LongTermRealm);
        writer.WritePasswordAlgorithm(StunPasswordAlgorithm.Sha256);
        writer.WriteMessageIntegritySha256(key);
        Assert.Equal(bytes, writer.Written.ToArray());
    }
}
