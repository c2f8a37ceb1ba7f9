using Parley.Stun;
using Parley.TestCommon;

namespace Parley.Turn.Tests;

/// <summary>The TURN core's counters and the observable instruments over them (meter Parley.Turn).</summary>
public sealed class MetricsTests
{
    private static readonly TransportAddress s_client = TurnMessages.Address("192.0.2.10", 50123);

    [Fact]
    public void Allocations_relayed_packets_and_bytes_are_counted_by_direction()
    {
        using var turn = new Harness();
        using var recorder = new MetricRecorder();
        _ = new TurnMetrics(recorder, turn.Server);
        (ClientCredentials credentials, FakeRelaySocket relay) = turn.Allocated(s_client);
        turn.Request(s_client, credentials, c => TurnMessages.ChannelBind(c, 0x4000, Harness.PublicPeer));

        for (int i = 0; i < 3; i++)
        {
            turn.Server.OnClientPacket(turn.Udp, s_client, TurnMessages.ChannelDataMessage(0x4000, new byte[100]));
        }

        relay.Receive(Harness.PublicPeer, new byte[50]);
        relay.Receive(Harness.PublicPeer, new byte[50]);
        relay.Receive(TurnMessages.Address("93.184.216.99", 1), new byte[50]); // no permission: dropped, not counted

        Assert.Equal(1, recorder.Observe("parley.turn.allocations"));
        Assert.Equal(1, recorder.Observe("parley.turn.allocations.created"));
        Assert.Equal(3, recorder.Observe("parley.turn.relayed.packets", "direction=to_peer"));
        Assert.Equal(300, recorder.Observe("parley.turn.relayed", "direction=to_peer"));
        Assert.Equal(2, recorder.Observe("parley.turn.relayed.packets", "direction=to_client"));
        Assert.Equal(100, recorder.Observe("parley.turn.relayed", "direction=to_client"));

        turn.Request(s_client, credentials, c => TurnMessages.Refresh(c, 0));
        Assert.Equal(0, recorder.Observe("parley.turn.allocations"));
        Assert.Equal(1, recorder.Observe("parley.turn.allocations.created"));
    }

    /// <summary>With metrics collected (a listener attached), relaying still allocates nothing and the counts are exact.</summary>
    [Fact]
    public void Counting_keeps_the_relay_path_allocation_free_while_a_listener_is_attached()
    {
        using var turn = new Harness(o => o.MaxBandwidthBytesPerSecond = 0);
        using var recorder = new MetricRecorder();
        _ = new TurnMetrics(recorder, turn.Server);
        (ClientCredentials credentials, FakeRelaySocket relay) = turn.Allocated(s_client);
        turn.Request(s_client, credentials, c => TurnMessages.ChannelBind(c, 0x4000, Harness.PublicPeer));
        relay.CountOnly = true;
        turn.Udp.CountOnly = true;
        byte[] channelData = TurnMessages.ChannelDataMessage(0x4000, new byte[1200]);
        byte[] fromPeer = new byte[1000];

        void Relay(int count)
        {
            for (int i = 0; i < count; i++)
            {
                turn.Server.OnClientPacket(turn.Udp, s_client, channelData);
                relay.Receive(Harness.PublicPeer, fromPeer);
            }
        }

        Relay(1000);
        recorder.Observe("parley.turn.relayed");
        long before = GC.GetAllocatedBytesForCurrentThread();
        Relay(10_000);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);
        Assert.Equal(11_000, recorder.Observe("parley.turn.relayed.packets", "direction=to_peer"));
        Assert.Equal(11_000 * 1200, recorder.Observe("parley.turn.relayed", "direction=to_peer"));
        Assert.Equal(11_000 * 1000, recorder.Observe("parley.turn.relayed", "direction=to_client"));
    }

    [Fact]
    public void Authentication_failures_are_counted_by_reason_but_the_first_challenge_is_not()
    {
        using var turn = new Harness();
        using var recorder = new MetricRecorder();
        _ = new TurnMetrics(recorder, turn.Server);

        Assert.Equal(401, turn.Allocate(s_client, turn.Credentials() with { Password = "guess" }).ErrorCode);
        ClientCredentials shortLived = turn.Credentials(lifetime: TimeSpan.FromMinutes(1));
        turn.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal(401, turn.Allocate(TurnMessages.Address("192.0.2.11", 1), shortLived).ErrorCode);

        Assert.Equal(1, recorder.Observe("parley.turn.auth.failures", "reason=wrong-credentials"));
        Assert.Equal(1, recorder.Observe("parley.turn.auth.failures", "reason=expired-username"));
        Assert.Equal(0, recorder.Observe("parley.turn.allocations.created"));
    }
}
