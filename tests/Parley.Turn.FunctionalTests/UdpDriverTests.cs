using System.Net.Sockets;
using Parley.Stun;
using Parley.Turn.Hosting.Linux;
using Parley.Turn.Tests;

namespace Parley.Turn.FunctionalTests;

/// <summary>
/// The ways the host drives UDP sockets (epoll loops on Linux, a thread per socket elsewhere) relay alike, close what
/// they close, and the epoll loop allocates nothing per relayed datagram.
/// </summary>
public sealed class UdpDriverTests
{
    public static TheoryData<UdpDriver, RelayTests.Transport> Drivers()
    {
        var data = new TheoryData<UdpDriver, RelayTests.Transport>();
        UdpDriver[] drivers = LinuxInterop.IsSupported ? [UdpDriver.Threads, UdpDriver.OneLoop, UdpDriver.TwoLoops] : [UdpDriver.Threads];
        foreach (UdpDriver driver in drivers)
        {
            data.Add(driver, RelayTests.Transport.Udp);
            data.Add(driver, RelayTests.Transport.Tcp);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Drivers))]
    public async Task Every_driver_relays_channel_data_and_indications_both_ways_and_closes_deleted_ports(UdpDriver driver, RelayTests.Transport transport)
    {
        await using TurnHost host = await TurnHost.StartAsync(udp: driver);
        await using TurnTestClient client = transport == RelayTests.Transport.Udp
            ? await TurnTestClient.Udp(host.Endpoints.Udp[0])
            : await TurnTestClient.Tcp(host.Endpoints.Tcp[0]);
        using var channelPeer = new PeerSocket();
        using var indicationPeer = new PeerSocket();
        client.Credentials = TurnHost.Credentials();
        TransportAddress relayed = (await client.AllocateAsync()).Relayed[0];
        Assert.Equal(StunClass.SuccessResponse, (await client.RequestAsync(c => TurnMessages.ChannelBind(c, 0x4000, channelPeer.Address))).Class);
        Assert.Equal(StunClass.SuccessResponse, (await client.RequestAsync(c => TurnMessages.CreatePermission(c, indicationPeer.Address))).Class);

        // Several rounds, each a burst, so that the loops see more than one datagram per wake-up and per socket.
        for (int round = 0; round < 5; round++)
        {
            for (int i = 0; i < 20; i++)
            {
                await client.SendAsync(TurnMessages.ChannelDataMessage(0x4000, [(byte)round, (byte)i], pad: client.IsStream));
                await client.SendAsync(TurnMessages.Send(indicationPeer.Address, [(byte)round, (byte)i, 0xAA]));
            }

            for (int i = 0; i < 20; i++)
            {
                var atChannelPeer = await channelPeer.ReceiveAsync();
                var atIndicationPeer = await indicationPeer.ReceiveAsync();
                Assert.NotNull(atChannelPeer);
                Assert.NotNull(atIndicationPeer);
                Assert.Equal(relayed, atChannelPeer.Value.From);
                Assert.Equal([(byte)round, (byte)i], atChannelPeer.Value.Data);
                Assert.Equal([(byte)round, (byte)i, 0xAA], atIndicationPeer.Value.Data);
            }

            for (int i = 0; i < 20; i++)
            {
                await channelPeer.SendAsync([(byte)round, (byte)i, 1, 2, 3], relayed);
            }

            for (int i = 0; i < 20; i++)
            {
                byte[]? packet = await client.ReceiveAsync();
                Assert.NotNull(packet);
                (ushort channel, byte[] data) = TurnMessages.ReadChannelData(packet);
                Assert.Equal(0x4000, channel);
                Assert.Equal([(byte)round, (byte)i, 1, 2, 3], data);
            }

            await indicationPeer.SendAsync([(byte)round, 9], relayed);
            byte[]? indication = await client.ReceiveAsync();
            Assert.NotNull(indication);
            (TransportAddress from, byte[] payload) = TurnMessages.ReadDataIndication(indication);
            Assert.Equal(indicationPeer.Address, from);
            Assert.Equal([(byte)round, 9], payload);
        }

        // Deleting the allocation closes its relayed port: the port can be bound again.
        Assert.Equal(0u, (await client.RequestAsync(c => TurnMessages.Refresh(c, 0))).Lifetime);
        DateTime deadline = DateTime.UtcNow.AddSeconds(5);
        bool free = false;
        while (!free && DateTime.UtcNow < deadline)
        {
            free = CanBind(relayed);
            if (!free)
            {
                await Task.Delay(20);
            }
        }

        Assert.True(free, $"{relayed} still bound after the allocation was deleted");
    }

    [Fact]
    public async Task The_epoll_loop_allocates_nothing_per_relayed_datagram()
    {
        if (!LinuxInterop.IsSupported)
        {
            return; // no epoll loop on this platform (the thread-per-socket path is covered by the core's test)
        }

        await using TurnHost host = await TurnHost.StartAsync(new() { ["Turn:MaxBandwidthBytesPerSecond"] = "0" }, udp: UdpDriver.OneLoop);
        var io = (EpollUdpIo)host.UdpIo;
        await using TurnTestClient client = await TurnTestClient.Udp(host.Endpoints.Udp[0]);
        using var channelPeer = new PeerSocket();
        using var indicationPeer = new PeerSocket();
        client.Credentials = TurnHost.Credentials();
        TransportAddress relayed = (await client.AllocateAsync()).Relayed[0];
        await client.RequestAsync(c => TurnMessages.ChannelBind(c, 0x4000, channelPeer.Address));
        await client.RequestAsync(c => TurnMessages.CreatePermission(c, indicationPeer.Address));
        byte[] channelData = TurnMessages.ChannelDataMessage(0x4000, new byte[200]);
        byte[] send = TurnMessages.Send(indicationPeer.Address, new byte[200]);
        byte[] fromPeer = new byte[200];

        // Every round relays a burst of each kind: ChannelData and Send indications to the peers, peer datagrams back
        // as ChannelData and as Data indications.
        async Task Relay(int rounds)
        {
            const int Burst = 25;
            for (int round = 0; round < rounds; round++)
            {
                for (int i = 0; i < Burst; i++)
                {
                    await client.SendAsync(channelData);
                    await client.SendAsync(send);
                }

                for (int i = 0; i < Burst; i++)
                {
                    Assert.NotNull(await channelPeer.ReceiveAsync());
                    Assert.NotNull(await indicationPeer.ReceiveAsync());
                }

                for (int i = 0; i < Burst; i++)
                {
                    await channelPeer.SendAsync(fromPeer, relayed);
                    await indicationPeer.SendAsync(fromPeer, relayed);
                }

                for (int i = 0; i < 2 * Burst; i++)
                {
                    Assert.NotNull(await client.ReceiveAsync());
                }
            }
        }

        await Relay(40); // warm-up: JIT, pools
        long before = await SettledLoopAllocations(io);
        await Relay(200); // 5,000 datagrams of each kind
        long after = await SettledLoopAllocations(io);

        Assert.Equal(0, after - before);
    }

    [Fact]
    public async Task With_two_loops_each_allocation_is_served_both_ways_by_one_loop()
    {
        if (!LinuxInterop.IsSupported)
        {
            return;
        }

        await using TurnHost host = await TurnHost.StartAsync(udp: UdpDriver.TwoLoops);
        var io = (EpollUdpIo)host.UdpIo;
        using var peer = new PeerSocket();

        // Several clients (the kernel spreads them over the two listener sockets by source port), each relaying one
        // datagram at a time to the peer and back: only one loop may wake for any of them.
        for (int c = 0; c < 6; c++)
        {
            await using TurnTestClient client = await TurnTestClient.Udp(host.Endpoints.Udp[0]);
            client.Credentials = TurnHost.Credentials($"user{c}");
            TransportAddress relayed = (await client.AllocateAsync()).Relayed[0];
            Assert.Equal(StunClass.SuccessResponse, (await client.RequestAsync(cl => TurnMessages.ChannelBind(cl, 0x4000, peer.Address))).Class);
            await Task.Delay(50); // the loops settle after the requests
            long[] before = io.LoopRounds();
            for (int i = 0; i < 20; i++)
            {
                await client.SendAsync(TurnMessages.ChannelDataMessage(0x4000, [(byte)i]));
                Assert.NotNull(await peer.ReceiveAsync());
                await peer.SendAsync([(byte)i], relayed);
                Assert.NotNull(await client.ReceiveAsync());
            }

            long[] after = io.LoopRounds();
            long[] woken = [after[0] - before[0], after[1] - before[1]];
            Assert.True(woken.Min() == 0 && woken.Max() >= 20, $"client {c}: loop rounds {woken[0]} and {woken[1]}");
        }
    }

    // The loop records its thread's allocations each time it goes back to epoll_wait: wait until that stops moving.
    private static async Task<long> SettledLoopAllocations(EpollUdpIo io)
    {
        long last = io.LoopAllocatedBytes()[0];
        DateTime deadline = DateTime.UtcNow.AddSeconds(5);
        while (DateTime.UtcNow < deadline)
        {
            await Task.Delay(200);
            long now = io.LoopAllocatedBytes()[0];
            if (now == last)
            {
                return now;
            }

            last = now;
        }

        return last;
    }

    private static bool CanBind(TransportAddress address)
    {
        try
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            socket.Bind(address.ToIPEndPoint());
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
