using Parley.Stun;

namespace Parley.Turn.Tests;

/// <summary>Draining (the host is stopping): no new allocation, existing ones go on; and the operators' snapshot.</summary>
public sealed class DrainingTests : IDisposable
{
    private static readonly TransportAddress s_client = TurnMessages.Address("192.0.2.10", 50123);
    private static readonly TransportAddress s_late = TurnMessages.Address("192.0.2.11", 50124);
    private readonly Harness _turn = new();

    public void Dispose() => _turn.Dispose();

    [Fact]
    public void While_draining_allocate_gets_508_and_an_existing_allocation_refreshes_permits_and_relays()
    {
        (ClientCredentials credentials, FakeRelaySocket relay) = _turn.Allocated(s_client);

        _turn.Server.BeginDraining();

        Assert.True(_turn.Server.IsDraining);
        Assert.Equal(StunErrorCode.InsufficientCapacity, _turn.Allocate(s_late, _turn.Credentials("bob")).ErrorCode);
        Assert.Equal(StunClass.SuccessResponse, _turn.Request(s_client, credentials, c => TurnMessages.Refresh(c, 600)).Class);
        Assert.Equal(StunClass.SuccessResponse, _turn.Request(s_client, credentials, c => TurnMessages.CreatePermission(c, Harness.PublicPeer)).Class);
        _turn.Exchange(s_client, TurnMessages.Send(Harness.PublicPeer, [1, 2, 3]));
        Assert.Equal([1, 2, 3], Assert.Single(relay.Sent).Data);
        Assert.Equal(1, _turn.Server.AllocationCount);
    }

    [Fact]
    public void A_retransmitted_allocate_is_still_answered_while_draining()
    {
        ClientCredentials credentials = _turn.Credentials();
        var id = StunTransactionId.NewRandom();
        TurnResponse first = _turn.Request(s_client, credentials, c => TurnMessages.Allocate(c, id));
        Assert.Equal(StunClass.SuccessResponse, first.Class);

        _turn.Server.BeginDraining();
        TurnResponse? again = _turn.Exchange(s_client, TurnMessages.Allocate(credentials, id));

        Assert.Equal(StunClass.SuccessResponse, again!.Class);
        Assert.Equal(first.Relayed, again.Relayed);
    }

    [Fact]
    public void The_snapshot_lists_each_allocation_with_age_and_relay_but_no_credentials()
    {
        (_, FakeRelaySocket relay) = _turn.Allocated(s_client, userId: "peer-1");
        _turn.Advance(TimeSpan.FromSeconds(30));

        AllocationSnapshot snapshot = Assert.Single(_turn.Server.SnapshotAllocations());

        Assert.Equal("peer-1", snapshot.UserId);
        Assert.Equal(TurnTransportProtocol.Udp, snapshot.Protocol);
        Assert.Equal([relay.LocalAddress.ToString()], snapshot.RelayAddresses);
        Assert.Equal(TimeSpan.FromSeconds(30), snapshot.Age);
        Assert.Equal(TimeSpan.FromSeconds(570), snapshot.ExpiresIn);
    }
}
