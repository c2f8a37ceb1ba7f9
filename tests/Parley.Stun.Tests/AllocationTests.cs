using System.Net;
using System.Net.Sockets;

namespace Parley.Stun.Tests;

/// <summary>
/// The per-packet paths allocate nothing (style principle 3): measured, not assumed. The measured bodies avoid xunit
/// asserts, which allocate; they return whether every step succeeded.
/// </summary>
public class AllocationTests
{
    private static readonly byte[] s_channelData = Corpus.Get("043-channeldata.bin");
    private static readonly byte[] s_allocate = Corpus.Get("007-allocate-request-auth.bin");
    private static readonly byte[] s_key =
        StunIntegrity.DeriveLongTermKey(StunPasswordAlgorithm.Md5, Corpus.Username, Corpus.Realm, Corpus.Password);

    [Fact]
    public void RelayingChannelDataAllocatesNothing()
    {
        var outgoing = new byte[1500];
        var peer = new SocketAddress(AddressFamily.InterNetworkV6);
        TransportAddress address = TransportAddress.FromIPv4([127, 0, 0, 1], 50000);

        Assert.Equal(0, Measure(() =>
            PacketClassifier.Classify(s_channelData) == PacketKind.ChannelData
            && ChannelData.TryRead(s_channelData, out ChannelData channelData).IsComplete
            && ChannelData.TryWrite(outgoing, channelData.ChannelNumber, channelData.Data, padToFourBytes: true, out _)
            && address.TryWriteTo(peer)
            && TransportAddress.TryRead(peer, out TransportAddress back)
            && back == address));
    }

    [Fact]
    public void ReadingVerifyingAndAnsweringAnAllocateAllocatesNothing()
    {
        var response = new byte[256];
        TransportAddress relayed = TransportAddress.FromIPv4([127, 0, 0, 1], 50000);
        Assert.Equal(0, Measure(() =>
        {
            if (!StunMessage.TryRead(s_allocate, out StunMessage request).IsComplete
                || !request.TryGetRequestedTransport(out _)
                || !request.TryGetUsername(out _)
                || request.GetUnknownComprehensionRequired(stackalloc StunAttributeType[4]) != 0
                || !request.VerifyMessageIntegrity(s_key))
            {
                return false;
            }

            var writer = new StunMessageWriter(response, request.Type.SuccessResponse, request.TransactionId);
            writer.WriteXorAddress(StunAttributeType.XorRelayedAddress, relayed);
            writer.WriteXorAddress(StunAttributeType.XorMappedAddress, relayed);
            writer.WriteLifetime(600);
            writer.WriteMessageIntegrity(s_key);
            writer.WriteFingerprint();
            return !writer.HasOverflowed;
        }));
    }

    private static long Measure(Func<bool> step)
    {
        Assert.True(step()); // warm up: JIT, static tables, crypto providers
        bool ok = true;
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++)
        {
            ok &= step();
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(ok);
        return allocated;
    }
}
