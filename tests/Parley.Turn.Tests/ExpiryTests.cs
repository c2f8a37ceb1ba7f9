using Parley.Stun;

namespace Parley.Turn.Tests;

/// <summary>Every lifetime in virtual time: allocation (600 s default, Refresh, LIFETIME 0), permission (300 s), channel (600 s).</summary>
public sealed class ExpiryTests : IDisposable
{
    private static readonly TransportAddress s_client = TurnMessages.Address("192.0.2.10", 50123);
    private readonly Harness _turn = new();

    public void Dispose() => _turn.Dispose();

    [Fact]
    public void An_allocation_expires_after_its_lifetime_and_its_relay_socket_is_closed()
    {
        (ClientCredentials credentials, FakeRelaySocket relay) = _turn.Allocated(s_client);

        _turn.Advance(TimeSpan.FromSeconds(599));
        Assert.False(relay.Disposed);
        _turn.Advance(TimeSpan.FromSeconds(1) + TurnServer.SweepInterval);

        Assert.True(relay.Disposed);
        Assert.Equal(0, _turn.Server.AllocationCount);
        Assert.Equal(437, _turn.Request(s_client, credentials, c => TurnMessages.Refresh(c, 600)).ErrorCode);
    }

    [Fact]
    public void Refresh_extends_the_lifetime_up_to_the_maximum()
    {
        (ClientCredentials credentials, FakeRelaySocket relay) = _turn.Allocated(s_client);

        TurnResponse refresh = _turn.Request(s_client, credentials, c => TurnMessages.Refresh(c, 100_000));
        Assert.Equal(3600u, refresh.Lifetime);
        Assert.True(refresh.VerifiesWith(credentials.Key));

        _turn.Advance(TimeSpan.FromSeconds(3599));
        Assert.False(relay.Disposed);
        _turn.Advance(TimeSpan.FromSeconds(1) + TurnServer.SweepInterval);
        Assert.True(relay.Disposed);
    }

    [Fact]
    public void A_requested_lifetime_below_the_default_gets_the_default()
    {
        TurnResponse response = _turn.Allocate(s_client, _turn.Credentials(), (ref StunMessageWriter w) => w.WriteLifetime(30));

        Assert.Equal(600u, response.Lifetime);
    }

    [Fact]
    public void Refresh_with_lifetime_zero_deletes_the_allocation()
    {
        (ClientCredentials credentials, FakeRelaySocket relay) = _turn.Allocated(s_client);

        TurnResponse response = _turn.Request(s_client, credentials, c => TurnMessages.Refresh(c, 0));

        Assert.Equal(0u, response.Lifetime);
        Assert.True(relay.Disposed);
        Assert.Equal(0, _turn.Server.AllocationCount);
    }

    [Fact]
    public void A_permission_expires_after_300_seconds_unless_refreshed()
    {
        (ClientCredentials credentials, FakeRelaySocket relay) = _turn.Allocated(s_client);
        _turn.Request(s_client, credentials, c => TurnMessages.CreatePermission(c, Harness.PublicPeer));

        _turn.Advance(TimeSpan.FromSeconds(299));
        relay.Receive(Harness.PublicPeer, [1]);
        Assert.Single(_turn.Udp.Take());

        _turn.Advance(TimeSpan.FromSeconds(1));
        relay.Receive(Harness.PublicPeer, [2]);
        _turn.Server.OnClientPacket(_turn.Udp, s_client, TurnMessages.Send(Harness.PublicPeer, [3]));
        Assert.Empty(_turn.Udp.Take());
        Assert.Empty(relay.Sent);

        _turn.Request(s_client, credentials, c => TurnMessages.CreatePermission(c, Harness.PublicPeer));
        relay.Receive(Harness.PublicPeer, [4]);
        Assert.Single(_turn.Udp.Take());
    }

    [Fact]
    public void A_channel_binding_lasts_600_seconds_and_its_permission_300_unless_refreshed()
    {
        (ClientCredentials credentials, FakeRelaySocket relay) = _turn.Allocated(s_client);
        _turn.Request(s_client, credentials, c => TurnMessages.ChannelBind(c, 0x4000, Harness.PublicPeer));
        _turn.Request(s_client, credentials, c => TurnMessages.Refresh(c, 3600));

        // After 300 s the permission is gone although the channel is bound: nothing flows.
        _turn.Advance(TimeSpan.FromSeconds(300));
        _turn.Server.OnClientPacket(_turn.Udp, s_client, TurnMessages.ChannelDataMessage(0x4000, [1]));
        Assert.Empty(relay.Sent);

        // Refreshing the permission revives the channel until it expires at 600 s.
        _turn.Request(s_client, credentials, c => TurnMessages.CreatePermission(c, Harness.PublicPeer));
        _turn.Server.OnClientPacket(_turn.Udp, s_client, TurnMessages.ChannelDataMessage(0x4000, [2]));
        Assert.Single(relay.Sent);

        _turn.Advance(TimeSpan.FromSeconds(300));
        _turn.Request(s_client, credentials, c => TurnMessages.CreatePermission(c, Harness.PublicPeer));
        _turn.Server.OnClientPacket(_turn.Udp, s_client, TurnMessages.ChannelDataMessage(0x4000, [3]));
        Assert.Single(relay.Sent);

        // Once expired, the channel may be bound to another peer.
        Assert.Null(_turn.Request(s_client, credentials, c => TurnMessages.ChannelBind(c, 0x4000, Harness.PublicPeer.WithPort(2))).ErrorCode);
    }

    [Fact]
    public void A_channel_bind_refresh_keeps_the_channel_and_permission()
    {
        (ClientCredentials credentials, FakeRelaySocket relay) = _turn.Allocated(s_client);
        _turn.Request(s_client, credentials, c => TurnMessages.Refresh(c, 3600));
        for (int i = 0; i < 5; i++)
        {
            _turn.Request(s_client, credentials, c => TurnMessages.ChannelBind(c, 0x4000, Harness.PublicPeer));
            _turn.Advance(TimeSpan.FromSeconds(240));
        }

        _turn.Server.OnClientPacket(_turn.Udp, s_client, TurnMessages.ChannelDataMessage(0x4000, [1]));
        Assert.Single(relay.Sent);
    }

    [Fact]
    public void An_unused_reservation_is_released_after_30_seconds()
    {
        TurnResponse first = _turn.Allocate(s_client, _turn.Credentials(), (ref StunMessageWriter w) => w.WriteEvenPort(reserveNextPort: true));
        FakeRelaySocket reserved = _turn.Relays.Sockets.Single(s => s.LocalAddress.Port == first.Relayed[0].Port + 1);

        _turn.Advance(TimeSpan.FromSeconds(31));

        Assert.True(reserved.Disposed);
        TransportAddress other = TurnMessages.Address("192.0.2.11", 50000);
        byte[] token = first.ReservationToken!;
        Assert.Equal(508, _turn.Allocate(other, _turn.Credentials("bob"), (ref StunMessageWriter w) => w.WriteReservationToken(token)).ErrorCode);
    }
}
