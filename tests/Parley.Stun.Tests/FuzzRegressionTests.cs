namespace Parley.Stun.Tests;

/// <summary>
/// Hand-made hostile inputs at the edges of the framing rules, plus every input the mutation test ever failed on
/// (none so far). Each is run through every reading entry point by <see cref="MutationTests.Exercise"/>.
/// </summary>
public class FuzzRegressionTests
{
    public static TheoryData<string, string> Inputs => new()
    {
        { "empty", "" },
        { "one STUN byte", "00" },
        { "header only, bad cookie", "000100002112a443b7e7a701bc34d686fa87dfae" },
        { "length 0xfffc, nothing after the header", "0001fffc2112a442b7e7a701bc34d686fa87dfae" },
        { "length not a multiple of four", "000100052112a442b7e7a701bc34d686fa87dfae0000000000" },
        { "attribute length 0xffff", "000100082112a442b7e7a701bc34d686fa87dfae8022ffff41414141" },
        { "attribute padding missing", "000100082112a442b7e7a701bc34d686fa87dfae0006000541414141" },
        { "MESSAGE-INTEGRITY of zero length", "000100042112a442b7e7a701bc34d686fa87dfae00080000" },
        { "MESSAGE-INTEGRITY-SHA256 of 12 bytes", "000100102112a442b7e7a701bc34d686fa87dfae001c000c000000000000000000000000" },
        { "FINGERPRINT not last", "000100102112a442b7e7a701bc34d686fa87dfae80280004000000000006000161000000" },
        { "XOR-MAPPED-ADDRESS family 3", "000100082112a442b7e7a701bc34d686fa87dfae0020000400030000" },
        { "XOR-MAPPED-ADDRESS IPv6 family in IPv4 length", "0001000c2112a442b7e7a701bc34d686fa87dfae002000080002a147e112a643" },
        { "ERROR-CODE class 7", "000100082112a442b7e7a701bc34d686fa87dfae0009000400000763" },
        { "ERROR-CODE shorter than four bytes", "000100082112a442b7e7a701bc34d686fa87dfae0009000200000000" },
        { "PASSWORD-ALGORITHMS entry overruns", "0001000c2112a442b7e7a701bc34d686fa87dfae800200080001ffff00020000" },
        { "ChannelData length 0xffff", "4000ffff01020304" },
        { "ChannelData reserved channel 0x5000", "5000000401020304" },
        { "ChannelData header only", "40000000" },
        { "RTP-like first byte", "80000000000000000000000000000000000000000000" },
    };

    [Theory]
    [MemberData(nameof(Inputs))]
    public void HostileInputIsReadSafely(string description, string hex)
    {
        Assert.NotNull(description);
        _ = MutationTests.Exercise(Convert.FromHexString(hex));
    }

    [Theory]
    [InlineData("0001fffc2112a442b7e7a701bc34d686fa87dfae", ReadStatus.Incomplete, ReadError.None)]
    [InlineData("000100052112a442b7e7a701bc34d686fa87dfae0000000000", ReadStatus.Invalid, ReadError.BadMessageLength)]
    [InlineData("000100082112a442b7e7a701bc34d686fa87dfae8022ffff41414141", ReadStatus.Invalid, ReadError.AttributeOverrun)]
    [InlineData("000100082112a442b7e7a701bc34d686fa87dfae0006000541414141", ReadStatus.Invalid, ReadError.AttributeOverrun)]
    [InlineData("000100042112a442b7e7a701bc34d686fa87dfae00080000", ReadStatus.Invalid, ReadError.BadIntegrityLength)]
    [InlineData("000100102112a442b7e7a701bc34d686fa87dfae001c000c000000000000000000000000", ReadStatus.Invalid, ReadError.BadIntegrityLength)]
    [InlineData("000100102112a442b7e7a701bc34d686fa87dfae80280004000000000006000161000000", ReadStatus.Invalid, ReadError.AttributeAfterFingerprint)]
    [InlineData("000100002112a443b7e7a701bc34d686fa87dfae", ReadStatus.Invalid, ReadError.BadMagicCookie)]
    [InlineData("c00100002112a442b7e7a701bc34d686fa87dfae", ReadStatus.Invalid, ReadError.NotStun)]
    [InlineData("0001", ReadStatus.Incomplete, ReadError.None)]
    public void HostileStunIsClassifiedAsTheRfcSays(string hex, ReadStatus status, ReadError error)
    {
        ReadResult result = StunMessage.TryRead(Convert.FromHexString(hex), out _);
        Assert.Equal(status, result.Status);
        Assert.Equal(error, result.Error);
    }

    [Fact]
    public void ThousandsOfDistinctUnknownAttributesAreReadInOnePass()
    {
        // The largest message the length field allows, all of it distinct unknown comprehension-required attributes:
        // collecting them must not be quadratic (an earlier draft de-duplicated by rescanning the message).
        var buffer = new byte[StunHeader.MaxMessageLength];
        var writer = new StunMessageWriter(buffer, StunMessageType.AllocateRequest, StunTransactionId.NewRandom());
        for (ushort type = 0x4000; !writer.HasOverflowed && writer.Length + 4 <= buffer.Length; type++)
        {
            writer.WriteAttribute((StunAttributeType)type, []);
        }

        Assert.True(StunMessage.TryRead(writer.Written, out StunMessage message).IsComplete);
        Span<StunAttributeType> unknown = stackalloc StunAttributeType[16];
        Assert.Equal(16, message.GetUnknownComprehensionRequired(unknown));
        Assert.Equal((StunAttributeType)0x4000, unknown[0]);
        _ = MutationTests.Exercise(writer.Written.ToArray());
    }

    [Fact]
    public void MalformedValuesAreRejectedByTheirAccessors()
    {
        Assert.True(StunMessage.TryRead(Convert.FromHexString("000100082112a442b7e7a701bc34d686fa87dfae0009000400000763"), out StunMessage error).IsComplete);
        Assert.False(error.TryGetErrorCode(out _, out _));

        Assert.True(StunMessage.TryRead(Convert.FromHexString("000100082112a442b7e7a701bc34d686fa87dfae0020000400030000"), out StunMessage address).IsComplete);
        Assert.False(address.TryGetXorAddress(StunAttributeType.XorMappedAddress, out _));

        Assert.True(StunMessage.TryRead(Convert.FromHexString("0001000c2112a442b7e7a701bc34d686fa87dfae800200080001ffff00020000"), out StunMessage algorithms).IsComplete);
        Assert.True(algorithms.TryGetPasswordAlgorithms(out PasswordAlgorithmEnumerator entries));
        Assert.False(entries.MoveNext());
    }
}
