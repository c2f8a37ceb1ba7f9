using Parley.Stun;

namespace Parley.Turn.Tests;

/// <summary>The happy paths of RFC 8656 over in-memory transports: Binding, Allocate, permissions, Send/Data, channels.</summary>
public sealed class AllocationFlowTests : IDisposable
{
    private static readonly TransportAddress s_client = TurnMessages.Address("192.0.2.10", 50123);
    private readonly Harness _turn = new();

    public void Dispose() => _turn.Dispose();

    [Theory]
    [InlineData("192.0.2.10", 50123)]
    [InlineData("2001:db8::10", 50123)]
    public void Binding_is_answered_without_credentials_with_the_xor_mapped_address(string ip, int port)
    {
        TransportAddress client = TurnMessages.Address(ip, port);
        TurnResponse? response = _turn.Exchange(client, TurnMessages.Build(StunMessageType.BindingRequest, fingerprint: true));

        Assert.NotNull(response);
        Assert.Equal(new StunMessageType(StunMethod.Binding, StunClass.SuccessResponse), response.Message.Type);
        Assert.Equal(client, response.XorMapped);
        Assert.True(response.Message.VerifyFingerprint());
    }

    [Fact]
    public void Allocate_without_credentials_is_challenged_with_realm_and_nonce()
    {
        TurnResponse? response = _turn.Exchange(s_client, TurnMessages.Allocate(null));

        Assert.NotNull(response);
        Assert.Equal(401, response.ErrorCode);
        Assert.Equal(Harness.Realm, response.Realm);
        Assert.NotNull(response.Nonce);
        Assert.False(response.HasIntegrity);
    }

    [Fact]
    public void Allocate_succeeds_with_relayed_and_mapped_addresses_lifetime_and_integrity()
    {
        ClientCredentials credentials = _turn.Credentials();
        TurnResponse response = _turn.Allocate(s_client, credentials);

        Assert.Equal(StunClass.SuccessResponse, response.Class);
        TransportAddress relayed = Assert.Single(response.Relayed);
        Assert.Equal(TurnMessages.Address("198.51.100.2", relayed.Port), relayed);
        Assert.InRange(relayed.Port, 50000, 50099);
        Assert.Equal(s_client, response.XorMapped);
        Assert.Equal(600u, response.Lifetime);
        Assert.True(response.VerifiesWith(credentials.Key));
        Assert.Equal(1, _turn.Server.AllocationCount);
    }

    [Fact]
    public void The_chromium_first_allocate_of_28_bytes_gets_its_401()
    {
        byte[] captured = File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "TestData", "005-allocate-request.bin"));
        Assert.Equal(28, captured.Length);

        TurnResponse? response = _turn.Exchange(s_client, captured);

        Assert.NotNull(response);
        Assert.Equal(401, response.ErrorCode);
        Assert.InRange(response.Bytes.Length, 1, _turn.Options.UnauthenticatedResponseFloor);
    }

    [Fact]
    public void Dual_allocation_with_additional_address_family_relays_both_families()
    {
        TurnResponse response = _turn.Allocate(s_client, _turn.Credentials(),
            (ref StunMessageWriter w) => w.WriteAdditionalAddressFamily(StunAddressFamily.IPv6));

        Assert.Equal(StunClass.SuccessResponse, response.Class);
        Assert.Equal([StunAddressFamily.IPv4, StunAddressFamily.IPv6], response.Relayed.Select(a => a.Family));
    }

    [Fact]
    public void Requested_address_family_ipv6_gives_an_ipv6_relay()
    {
        TurnResponse response = _turn.Allocate(s_client, _turn.Credentials(),
            (ref StunMessageWriter w) => w.WriteRequestedAddressFamily(StunAddressFamily.IPv6));

        Assert.Equal(StunAddressFamily.IPv6, Assert.Single(response.Relayed).Family);
    }

    [Fact]
    public void Permission_then_send_reaches_the_peer_and_the_peer_answer_comes_back_as_a_data_indication()
    {
        (ClientCredentials credentials, FakeRelaySocket relay) = _turn.Allocated(s_client);

        TurnResponse permission = _turn.Request(s_client, credentials, c => TurnMessages.CreatePermission(c, Harness.PublicPeer));
        Assert.Equal(StunClass.SuccessResponse, permission.Class);
        Assert.True(permission.VerifiesWith(credentials.Key));

        _turn.Server.OnClientPacket(_turn.Udp, s_client, TurnMessages.Send(Harness.PublicPeer, [1, 2, 3]));
        (TransportAddress to, byte[] data) = Assert.Single(relay.Sent);
        Assert.Equal(Harness.PublicPeer, to);
        Assert.Equal([1, 2, 3], data);

        // Permissions are per IP: another port of the same peer may answer (RFC 8656 §9).
        TransportAddress otherPort = Harness.PublicPeer.WithPort(40001);
        relay.Receive(otherPort, [4, 5, 6, 7, 8]);
        (TransportAddress peer, byte[] payload) = TurnMessages.ReadDataIndication(Assert.Single(_turn.Udp.Take()));
        Assert.Equal(otherPort, peer);
        Assert.Equal([4, 5, 6, 7, 8], payload);
    }

    [Fact]
    public void Without_a_permission_nothing_is_relayed_either_way()
    {
        (_, FakeRelaySocket relay) = _turn.Allocated(s_client);

        _turn.Server.OnClientPacket(_turn.Udp, s_client, TurnMessages.Send(Harness.PublicPeer, [1]));
        relay.Receive(Harness.PublicPeer, [2]);

        Assert.Empty(relay.Sent);
        Assert.Empty(_turn.Udp.Sent);
    }

    [Fact]
    public void Channel_bind_then_channel_data_flows_both_ways_unpadded_over_udp()
    {
        (ClientCredentials credentials, FakeRelaySocket relay) = _turn.Allocated(s_client);
        TurnResponse bind = _turn.Request(s_client, credentials, c => TurnMessages.ChannelBind(c, 0x4001, Harness.PublicPeer));
        Assert.Equal(StunClass.SuccessResponse, bind.Class);

        _turn.Server.OnClientPacket(_turn.Udp, s_client, TurnMessages.ChannelDataMessage(0x4001, [9, 8, 7]));
        Assert.Equal(Harness.PublicPeer, relay.Sent[0].Peer);
        Assert.Equal([9, 8, 7], relay.Sent[0].Data);

        relay.Receive(Harness.PublicPeer, [1, 2, 3, 4, 5]);
        byte[] packet = Assert.Single(_turn.Udp.Take());
        Assert.Equal(4 + 5, packet.Length);
        (ushort channel, byte[] data) = TurnMessages.ReadChannelData(packet);
        Assert.Equal(0x4001, channel);
        Assert.Equal([1, 2, 3, 4, 5], data);

        // A peer with a permission (installed by ChannelBind) but from another port gets a Data indication.
        relay.Receive(Harness.PublicPeer.WithPort(40001), [6]);
        Assert.Equal(StunMessageType.DataIndication, new TurnResponse(Assert.Single(_turn.Udp.Take())).Message.Type);
    }

    [Fact]
    public void Channel_data_to_a_tcp_client_is_padded_to_four_bytes()
    {
        var tcp = new FakeClientTransport(TurnTransportProtocol.Tcp, Harness.ServerUdp);
        (ClientCredentials credentials, FakeRelaySocket relay) = _turn.Allocated(s_client, transport: tcp);
        _turn.Request(s_client, credentials, c => TurnMessages.ChannelBind(c, 0x4FFF, Harness.PublicPeer), tcp);

        relay.Receive(Harness.PublicPeer, [1, 2, 3, 4, 5]);

        Assert.Equal(12, Assert.Single(tcp.Take()).Length);
    }

    [Fact]
    public void A_closed_tcp_connection_deletes_its_allocation()
    {
        var tcp = new FakeClientTransport(TurnTransportProtocol.Tcp, Harness.ServerUdp);
        (_, FakeRelaySocket relay) = _turn.Allocated(s_client, transport: tcp);

        _turn.Server.OnConnectionClosed(tcp, s_client);

        Assert.True(relay.Disposed);
        Assert.Equal(0, _turn.Server.AllocationCount);
    }

    [Fact]
    public void Unknown_channel_data_and_garbage_are_dropped_silently()
    {
        (_, FakeRelaySocket relay) = _turn.Allocated(s_client);

        _turn.Server.OnClientPacket(_turn.Udp, s_client, TurnMessages.ChannelDataMessage(0x4002, [1]));
        _turn.Server.OnClientPacket(_turn.Udp, s_client, [0xFF, 0x00, 0x01]);

        Assert.Empty(relay.Sent);
        Assert.Empty(_turn.Udp.Sent);
    }

    [Fact]
    public void Even_port_with_reservation_gives_an_even_port_and_a_token_for_the_next_one()
    {
        TurnResponse first = _turn.Allocate(s_client, _turn.Credentials(), (ref StunMessageWriter w) => w.WriteEvenPort(reserveNextPort: true));
        Assert.Equal(StunClass.SuccessResponse, first.Class);
        int port = first.Relayed[0].Port;
        Assert.Equal(0, port % 2);
        byte[] token = Assert.IsType<byte[]>(first.ReservationToken);

        TransportAddress other = TurnMessages.Address("192.0.2.11", 50000);
        TurnResponse second = _turn.Allocate(other, _turn.Credentials("bob"), (ref StunMessageWriter w) => w.WriteReservationToken(token));

        Assert.Equal(StunClass.SuccessResponse, second.Class);
        Assert.Equal(port + 1, second.Relayed[0].Port);
    }
}
