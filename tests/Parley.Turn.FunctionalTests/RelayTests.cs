using System.Net;
using Parley.Stun;
using Parley.Turn.Tests;

namespace Parley.Turn.FunctionalTests;

/// <summary>TURN over real loopback sockets: UDP, TCP and TLS clients, a UDP peer, the hosted server.</summary>
public sealed class RelayTests
{
    public enum Transport
    {
        Udp,
        Tcp,
        Tls,
    }

    private static async Task<TurnTestClient> Connect(TurnHost host, Transport transport) => transport switch
    {
        Transport.Udp => await TurnTestClient.Udp(host.Endpoints.Udp[0]),
        Transport.Tcp => await TurnTestClient.Tcp(host.Endpoints.Tcp[0]),
        _ => await TurnTestClient.Tcp(host.Endpoints.Tls[0], host.CertificateThumbprint),
    };

    [Theory]
    [InlineData(Transport.Udp)]
    [InlineData(Transport.Tcp)]
    public async Task Binding_returns_the_clients_address_as_xor_mapped_address(Transport transport)
    {
        await using TurnHost host = await TurnHost.StartAsync();
        await using TurnTestClient client = await Connect(host, transport);

        TurnResponse? response = await client.ExchangeAsync(TurnMessages.Binding());

        Assert.NotNull(response);
        Assert.Equal(StunClass.SuccessResponse, response.Class);
        Assert.Equal(client.LocalAddress, response.XorMapped);
    }

    [Fact]
    public async Task Configured_lists_replace_the_defaults_and_ports_bound_to_zero_are_reported()
    {
        await using TurnHost host = await TurnHost.StartAsync(tls: true);

        IPEndPoint udp = Assert.Single(host.Endpoints.Udp);
        IPEndPoint tcp = Assert.Single(host.Endpoints.Tcp);
        IPEndPoint tls = Assert.Single(host.Endpoints.Tls);
        Assert.All([udp, tcp, tls], e => Assert.Equal(IPAddress.Loopback, e.Address));
        Assert.All([udp, tcp, tls], e => Assert.NotEqual(0, e.Port));
    }

    [Fact]
    public async Task Binding_over_ipv6_loopback_returns_an_ipv6_xor_mapped_address()
    {
        await using TurnHost host = await TurnHost.StartAsync(new() { ["Turn:ListenAddresses:0"] = "::1" });
        await using TurnTestClient client = await TurnTestClient.Udp(host.Endpoints.Udp[0]);

        TurnResponse? response = await client.ExchangeAsync(TurnMessages.Binding());

        Assert.Equal(StunAddressFamily.IPv6, response?.XorMapped?.Family);
        Assert.Equal(client.LocalAddress, response!.XorMapped);
    }

    [Theory]
    [InlineData(Transport.Udp)]
    [InlineData(Transport.Tcp)]
    [InlineData(Transport.Tls)]
    public async Task Allocate_permission_send_then_data_back_from_the_peer(Transport transport)
    {
        await using TurnHost host = await TurnHost.StartAsync(tls: transport == Transport.Tls);
        await using TurnTestClient client = await Connect(host, transport);
        using var peer = new PeerSocket();
        client.Credentials = TurnHost.Credentials();

        TurnResponse allocate = await client.AllocateAsync();
        Assert.Equal(StunClass.SuccessResponse, allocate.Class);
        TransportAddress relayed = Assert.Single(allocate.Relayed);
        Assert.Equal(IPAddress.Loopback, relayed.ToIPEndPoint().Address);
        Assert.InRange(relayed.Port, 40000, 40999);
        Assert.Equal(client.LocalAddress, allocate.XorMapped);

        Assert.Equal(StunClass.SuccessResponse, (await client.RequestAsync(c => TurnMessages.CreatePermission(c, peer.Address))).Class);
        await client.AssertSendAndDataIndicationAsync(peer, relayed);
    }

    [Theory]
    [InlineData(Transport.Udp)]
    [InlineData(Transport.Tcp)]
    [InlineData(Transport.Tls)]
    public async Task Channel_bind_then_channel_data_both_ways(Transport transport)
    {
        await using TurnHost host = await TurnHost.StartAsync(tls: transport == Transport.Tls);
        await using TurnTestClient client = await Connect(host, transport);
        using var peer = new PeerSocket();
        client.Credentials = TurnHost.Credentials();
        TransportAddress relayed = (await client.AllocateAsync()).Relayed[0];

        Assert.Equal(StunClass.SuccessResponse, (await client.RequestAsync(c => TurnMessages.ChannelBind(c, 0x4001, peer.Address))).Class);
        await client.SendAsync(TurnMessages.ChannelDataMessage(0x4001, [9, 8, 7], pad: client.IsStream));
        var received = await peer.ReceiveAsync();
        Assert.NotNull(received);
        Assert.Equal(relayed, received.Value.From);
        Assert.Equal([9, 8, 7], received.Value.Data);

        await peer.SendAsync([1, 2, 3, 4, 5], relayed);
        byte[]? packet = await client.ReceiveAsync();
        Assert.NotNull(packet);
        Assert.Equal(client.IsStream ? 12 : 9, packet.Length); // padded to four bytes over streams (RFC 8656 §12.5)
        (ushort channel, byte[] data) = TurnMessages.ReadChannelData(packet);
        Assert.Equal(0x4001, channel);
        Assert.Equal([1, 2, 3, 4, 5], data);
    }

    [Fact]
    public async Task Refresh_keeps_an_allocation_and_it_expires_without_one()
    {
        await using TurnHost host = await TurnHost.StartAsync(new()
        {
            ["Turn:DefaultAllocationLifetime"] = "00:00:01",
            ["Turn:MaxAllocationLifetime"] = "00:00:02",
        });
        await using TurnTestClient client = await TurnTestClient.Udp(host.Endpoints.Udp[0]);
        client.Credentials = TurnHost.Credentials();
        Assert.Equal(1u, (await client.AllocateAsync()).Lifetime);

        TurnResponse refresh = await client.RequestAsync(c => TurnMessages.Refresh(c, 2));
        Assert.Equal(2u, refresh.Lifetime);
        Assert.Equal(1, host.Server.AllocationCount);

        // Bounded polling: the allocation must be gone within its lifetime plus sweeps.
        DateTime deadline = DateTime.UtcNow.AddSeconds(10);
        while (host.Server.AllocationCount > 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }

        Assert.Equal(0, host.Server.AllocationCount);
        Assert.Equal(437, (await client.RequestAsync(c => TurnMessages.Refresh(c, 2))).ErrorCode);
    }

    [Fact]
    public async Task Refresh_with_lifetime_zero_deletes_and_the_relayed_port_stops_relaying()
    {
        await using TurnHost host = await TurnHost.StartAsync();
        await using TurnTestClient client = await TurnTestClient.Udp(host.Endpoints.Udp[0]);
        using var peer = new PeerSocket();
        client.Credentials = TurnHost.Credentials();
        TransportAddress relayed = (await client.AllocateAsync()).Relayed[0];
        await client.RequestAsync(c => TurnMessages.CreatePermission(c, peer.Address));

        Assert.Equal(0u, (await client.RequestAsync(c => TurnMessages.Refresh(c, 0))).Lifetime);
        Assert.Equal(0, host.Server.AllocationCount);

        await peer.SendAsync([1], relayed);
        Assert.Null(await client.ReceiveAsync(TimeSpan.FromMilliseconds(300)));
    }

    [Fact]
    public async Task A_permission_expires()
    {
        await using TurnHost host = await TurnHost.StartAsync(new() { ["Turn:PermissionLifetime"] = "00:00:01" });
        await using TurnTestClient client = await TurnTestClient.Udp(host.Endpoints.Udp[0]);
        using var peer = new PeerSocket();
        client.Credentials = TurnHost.Credentials();
        TransportAddress relayed = (await client.AllocateAsync()).Relayed[0];
        await client.RequestAsync(c => TurnMessages.CreatePermission(c, peer.Address));

        await peer.SendAsync([1], relayed);
        Assert.NotNull(await client.ReceiveAsync());

        // Bounded polling: after the lifetime, datagrams from the peer stop arriving.
        DateTime deadline = DateTime.UtcNow.AddSeconds(10);
        bool stopped = false;
        while (!stopped && DateTime.UtcNow < deadline)
        {
            await peer.SendAsync([2], relayed);
            stopped = await client.ReceiveAsync(TimeSpan.FromMilliseconds(200)) is null;
        }

        Assert.True(stopped);
    }
}
