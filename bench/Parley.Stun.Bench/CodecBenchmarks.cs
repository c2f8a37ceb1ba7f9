using BenchmarkDotNet.Attributes;

namespace Parley.Stun.Bench;

/// <summary>
/// Parse and write of the two packets a TURN server handles most: ChannelData (every relayed packet) and an
/// authenticated Allocate (with its success response). The bytes are Chromium's, from
/// tests/Parley.Stun.Tests/TestData/chromium (043-channeldata.bin, 007-allocate-request-auth.bin).
/// </summary>
[MemoryDiagnoser]
public class CodecBenchmarks
{
    private readonly byte[] _channelData = Convert.FromHexString(
        "40000049906f49b36887affc8ac7cb70bede000322cc9637310003403010ff005c65b383fade693062826df38301504b18b3d597" +
        "8eb674c8fdd8033960e3ba5b526a9c1b3bfbb1bc96b428489a");

    private readonly byte[] _allocate = Convert.FromHexString(
        "000300582112a4424f515a683541644e6e6b6c75001900041100000000060010313730303030303030303a616c69636500140" +
        "00b7061726c65792e74657374000015001030313233343536373839616263646566000800140150a8dd52ab33214c5c43ac8f" +
        "abe73ce8c83db0");

    private readonly byte[] _key =
        StunIntegrity.DeriveLongTermKey(StunPasswordAlgorithm.Md5, "1700000000:alice", "parley.test", "x");

    private static readonly TransportAddress s_relayed = TransportAddress.FromIPv4([127, 0, 0, 1], 50000);
    private static readonly TransportAddress s_client = TransportAddress.FromIPv4([127, 0, 0, 1], 47757);
    private readonly byte[] _output = new byte[1500];

    /// <summary>Classify and read one ChannelData datagram (the relay's receive path).</summary>
    [Benchmark]
    public int ParseChannelData()
    {
        if (PacketClassifier.Classify(_channelData) != PacketKind.ChannelData)
        {
            return -1;
        }

        ChannelData.TryRead(_channelData, out ChannelData channelData);
        return channelData.ChannelNumber + channelData.Data.Length;
    }

    /// <summary>Write one ChannelData message, padded for a stream (the relay's send path).</summary>
    [Benchmark]
    public int WriteChannelData()
    {
        ChannelData.TryWrite(_output, 0x4000, _channelData.AsSpan(4), padToFourBytes: true, out int written);
        return written;
    }

    /// <summary>Read an authenticated Allocate and the attributes a server looks at, without checking integrity.</summary>
    [Benchmark]
    public int ParseAllocate()
    {
        if (!StunMessage.TryRead(_allocate, out StunMessage request).IsComplete)
        {
            return -1;
        }

        request.TryGetRequestedTransport(out byte protocol);
        request.TryGetUsername(out ReadOnlySpan<byte> username);
        request.TryGetRealm(out ReadOnlySpan<byte> realm);
        request.TryGetNonce(out ReadOnlySpan<byte> nonce);
        return protocol + username.Length + realm.Length + nonce.Length
            + request.GetUnknownComprehensionRequired(stackalloc StunAttributeType[4]);
    }

    /// <summary>Read an authenticated Allocate and verify its MESSAGE-INTEGRITY (HMAC-SHA1).</summary>
    [Benchmark]
    public bool ParseAndVerifyAllocate() =>
        StunMessage.TryRead(_allocate, out StunMessage request).IsComplete && request.VerifyMessageIntegrity(_key);

    /// <summary>Write the Allocate success response: two XOR addresses, LIFETIME, MESSAGE-INTEGRITY, FINGERPRINT.</summary>
    [Benchmark]
    public int WriteAllocateResponse()
    {
        var writer = new StunMessageWriter(_output, new StunMessageType(StunMethod.Allocate, StunClass.SuccessResponse),
            StunTransactionId.Read(_allocate.AsSpan(8)));
        writer.WriteXorAddress(StunAttributeType.XorRelayedAddress, s_relayed);
        writer.WriteXorAddress(StunAttributeType.XorMappedAddress, s_client);
        writer.WriteLifetime(600);
        writer.WriteMessageIntegrity(_key);
        writer.WriteFingerprint();
        return writer.Length;
    }
}
