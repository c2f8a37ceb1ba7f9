using Parley.Stun;

namespace Parley.Turn.Tests;

/// <summary>The relay hot path allocates nothing per packet (style principle 3).</summary>
public sealed class ZeroAllocationTests
{
    private static readonly TransportAddress s_client = TurnMessages.Address("192.0.2.10", 50123);

    [Fact]
    public void Relaying_10000_packets_each_way_allocates_nothing()
    {
        using var turn = new Harness(o => o.MaxBandwidthBytesPerSecond = 0);
        (ClientCredentials credentials, FakeRelaySocket relay) = turn.Allocated(s_client);
        turn.Request(s_client, credentials, c => TurnMessages.ChannelBind(c, 0x4000, Harness.PublicPeer));
        TransportAddress indicationPeer = Harness.PublicPeer.WithPort(40001);
        relay.CountOnly = true;
        turn.Udp.CountOnly = true;

        byte[] channelData = TurnMessages.ChannelDataMessage(0x4000, new byte[1200]);
        byte[] send = TurnMessages.Send(indicationPeer, new byte[1200]);
        byte[] fromPeer = new byte[1200];

        void Relay(int count)
        {
            for (int i = 0; i < count; i++)
            {
                turn.Server.OnClientPacket(turn.Udp, s_client, channelData);   // ChannelData -> peer
                turn.Server.OnClientPacket(turn.Udp, s_client, send);          // Send indication -> peer
                relay.Receive(Harness.PublicPeer, fromPeer);                   // peer -> ChannelData
                relay.Receive(indicationPeer, fromPeer);                       // peer -> Data indication
            }
        }

        Relay(1000); // warm-up: JIT, pools, dictionaries
        long relayBefore = relay.Count, clientBefore = turn.Udp.Count;
        long before = GC.GetAllocatedBytesForCurrentThread();
        Relay(10_000);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(20_000, relay.Count - relayBefore);
        Assert.Equal(20_000, turn.Udp.Count - clientBefore);
        Assert.Equal(0, allocated);
    }
}
