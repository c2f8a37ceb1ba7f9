using System.Buffers;

namespace Parley.Stun.Tests;

/// <summary>ChannelData (RFC 8656 §12.4, §12.5), datagram classification and TCP/TLS stream framing.</summary>
public class ChannelDataAndFramingTests
{
    [Theory]
    [InlineData(0, false, 4)]
    [InlineData(1, false, 5)]
    [InlineData(1, true, 8)]
    [InlineData(4, true, 8)]
    [InlineData(5, true, 12)]
    public void EncodedLengthPadsOnlyForStreams(int dataLength, bool pad, int expected) =>
        Assert.Equal(expected, ChannelData.GetEncodedLength(dataLength, pad));

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void WriteThenRead(bool pad)
    {
        byte[] data = [1, 2, 3, 4, 5];
        var buffer = new byte[16];
        Assert.True(ChannelData.TryWrite(buffer, 0x4001, data, pad, out int written));
        Assert.Equal(pad ? 12 : 9, written);
        Assert.Equal(ReadResult.Complete(9), ChannelData.TryRead(buffer.AsSpan(0, written), out ChannelData read));
        Assert.Equal(0x4001, read.ChannelNumber);
        Assert.Equal(data, read.Data.ToArray());
        Assert.Equal(PacketKind.ChannelData, PacketClassifier.Classify(buffer.AsSpan(0, written)));
    }

    [Fact]
    public void WriteToABufferWriterAndHeaderInPlace()
    {
        var output = new ArrayBufferWriter<byte>();
        Assert.Equal(8, ChannelData.Write(output, 0x4FFF, "abc"u8, padToFourBytes: true));
        Assert.Equal(Convert.FromHexString("4fff000361626300"), output.WrittenSpan.ToArray());

        // A relay receives the peer's datagram at offset 4 and only writes the header in front: no copy.
        var buffer = new byte[32];
        "payload"u8.CopyTo(buffer.AsSpan(ChannelData.HeaderLength));
        Assert.True(ChannelData.TryWriteHeader(buffer, 0x4000, 7));
        Assert.True(ChannelData.TryRead(buffer.AsSpan(0, 11), out ChannelData read).IsComplete);
        Assert.True(read.Data.SequenceEqual("payload"u8));
        Assert.False(ChannelData.TryWrite(new byte[6], 0x4000, "abc"u8, padToFourBytes: true, out _));
    }

    [Theory]
    [InlineData("4000000401020304", ReadStatus.Complete, ReadError.None)]
    [InlineData("40000005010203", ReadStatus.Incomplete, ReadError.None)]
    [InlineData("3fff000401020304", ReadStatus.Invalid, ReadError.BadChannelNumber)]
    [InlineData("5000000401020304", ReadStatus.Invalid, ReadError.BadChannelNumber)]
    [InlineData("40", ReadStatus.Incomplete, ReadError.None)]
    [InlineData("80", ReadStatus.Invalid, ReadError.BadChannelNumber)]
    public void ChannelNumbersOutside0x4000To0x4FFFAreRejected(string hex, ReadStatus status, ReadError error)
    {
        ReadResult result = ChannelData.TryRead(Convert.FromHexString(hex), out _);
        Assert.Equal(status, result.Status);
        Assert.Equal(error, result.Error);
    }

    [Theory]
    [InlineData("4000000401020304", PacketKind.ChannelData)]
    [InlineData("400000050102030405000000", PacketKind.ChannelData)] // padded to 4 over UDP is allowed
    [InlineData("40000005010203040500000000", PacketKind.Unknown)] // more than 3 bytes past the data
    [InlineData("4000000801020304", PacketKind.Unknown)] // length larger than the datagram
    [InlineData("5000000401020304", PacketKind.Unknown)] // reserved channel range
    [InlineData("8000000401020304", PacketKind.Unknown)] // RTP
    [InlineData("16fefd00000000000000000000000000000000000000", PacketKind.Unknown)] // DTLS
    public void ClassifiesDatagrams(string hex, PacketKind kind) =>
        Assert.Equal(kind, PacketClassifier.Classify(Convert.FromHexString(hex)));

    [Fact]
    public void ClassifiesStunByCookie()
    {
        Assert.Equal(PacketKind.Stun, PacketClassifier.Classify(Rfc5769Vectors.SampleRequest));
        byte[] noCookie = [.. Rfc5769Vectors.SampleRequest];
        noCookie[4] ^= 0xFF;
        Assert.Equal(PacketKind.Unknown, PacketClassifier.Classify(noCookie));
    }

    [Fact]
    public void FramerCutsAStreamFedOneByteAtATime()
    {
        // A TCP stream: a STUN request, a padded ChannelData, another STUN message, an unpadded-length ChannelData.
        var stream = new ArrayBufferWriter<byte>();
        stream.Write(Rfc5769Vectors.SampleRequest);
        ChannelData.Write(stream, 0x4000, "hello"u8, padToFourBytes: true);
        stream.Write(Rfc5769Vectors.SampleIPv6Response);
        ChannelData.Write(stream, 0x4ABC, new byte[1200], padToFourBytes: true);
        byte[] bytes = stream.WrittenSpan.ToArray();

        var frames = new List<(PacketKind, int)>();
        int start = 0;
        for (int available = 1; available <= bytes.Length; available++)
        {
            ReadResult result = StreamFramer.TryGetFrame(bytes.AsSpan(start, available - start), out PacketKind kind);
            if (result.Status == ReadStatus.Incomplete)
            {
                Assert.True(result.Length > available - start);
                continue;
            }

            Assert.Equal(ReadStatus.Complete, result.Status);
            frames.Add((kind, result.Consumed));
            start += result.Consumed;
        }

        Assert.Equal(bytes.Length, start);
        Assert.Equal([(PacketKind.Stun, 108), (PacketKind.ChannelData, 12), (PacketKind.Stun, 92), (PacketKind.ChannelData, 1204)], frames);
    }

    [Theory]
    [InlineData("", ReadStatus.Incomplete, 4)]
    [InlineData("0001", ReadStatus.Incomplete, 20)]
    [InlineData("4000", ReadStatus.Incomplete, 4)]
    [InlineData("40000001", ReadStatus.Incomplete, 8)]
    [InlineData("4000000161", ReadStatus.Incomplete, 8)]
    [InlineData("4000000161000000", ReadStatus.Complete, 8)]
    [InlineData("000100082112a442b7e7a701bc34d686fa87dfae", ReadStatus.Incomplete, 28)]
    [InlineData("000100052112a442b7e7a701bc34d686fa87dfae", ReadStatus.Invalid, 0)]
    [InlineData("000100002112a443b7e7a701bc34d686fa87dfae", ReadStatus.Invalid, 0)]
    [InlineData("5000", ReadStatus.Invalid, 0)]
    [InlineData("80", ReadStatus.Invalid, 0)]
    [InlineData("c0", ReadStatus.Invalid, 0)]
    public void FramerSaysWhatItNeeds(string hex, ReadStatus status, int length)
    {
        ReadResult result = StreamFramer.TryGetFrame(Convert.FromHexString(hex), out _);
        Assert.Equal(status, result.Status);
        Assert.Equal(length, result.Length);
    }
}
