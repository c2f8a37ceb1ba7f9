using System.Diagnostics;
using System.Net;
using System.Net.WebSockets;
using System.Text.Json;
using Parley.Stun;
using Parley.Turn.FunctionalTests;
using Parley.Turn.Tests;

namespace Parley.Server.Tests;

/// <summary>A stop drains: clients are told to reconnect, new sessions and allocations are refused, relaying goes on.</summary>
public sealed class DrainTests
{
    private static readonly TimeSpan s_grace = TimeSpan.FromSeconds(4);

    [Fact]
    public async Task Readyz_is_ready_once_the_web_and_turn_listeners_are_bound()
    {
        await using var server = await RunningServer.StartAsync();
        using var http = new HttpClient { BaseAddress = server.BaseUri };

        var response = await http.GetAsync(new Uri("/readyz", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("ready", JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("status").GetString());
    }

    [Fact]
    public async Task While_draining_sessions_and_allocations_are_refused_and_existing_allocations_relay_until_the_grace_ends()
    {
        await using var server = await RunningServer.StartAsync("http://127.0.0.1:0",
            $"--Drain:TurnGrace={s_grace}", "--Turn:AllowedPeerRanges:0=127.0.0.0/8");
        using var http = new HttpClient { BaseAddress = server.BaseUri };
        await using var ana = await WsClient.ConnectAsync(server.WebSocketUri);
        var welcome = await ana.HelloAsync();
        await ana.JoinAsync("drain", "Ana");
        await using var turn = await TurnClientForHost.UdpAsync(server, welcome);
        using var peer = new PeerSocket();
        var allocate = await turn.AllocateAsync();
        Assert.Equal(StunClass.SuccessResponse, allocate.Class);
        var relayed = allocate.Relayed.Single();
        Assert.Equal(StunClass.SuccessResponse, (await turn.RequestAsync(c => TurnMessages.CreatePermission(c, peer.Address))).Class);

        var clock = Stopwatch.StartNew();
        var stopping = server.App.StopAsync();

        // Connected clients are told to reconnect: 1001, as for any server shutdown.
        Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, await ana.ReceiveCloseAsync());

        // Not ready, and new sockets (resumes included) refused before the upgrade with a stable error id.
        var readyz = await http.GetAsync(new Uri("/readyz", UriKind.Relative));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, readyz.StatusCode);
        Assert.Contains("\"draining\"", await readyz.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var refused = await http.GetAsync(new Uri("/ws", UriKind.Relative));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        Assert.Equal("server-draining", JsonDocument.Parse(await refused.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetString());
        Assert.NotNull(refused.Headers.RetryAfter);
        using var socket = new ClientWebSocket { Options = { CollectHttpResponseDetails = true } };
        using (var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10)))
            await Assert.ThrowsAnyAsync<WebSocketException>(() => socket.ConnectAsync(server.WebSocketUri, timeout.Token));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, socket.HttpStatusCode);

        // A new allocation is refused with 508; the existing one relays both ways.
        await using (var late = await TurnClientForHost.UdpAsync(server, welcome))
            Assert.Equal(StunErrorCode.InsufficientCapacity, (await late.AllocateAsync()).ErrorCode);
        await turn.SendAsync(TurnMessages.Send(peer.Address, [1, 2, 3]));
        var toPeer = await peer.ReceiveAsync();
        Assert.Equal([1, 2, 3], toPeer?.Data);
        await peer.SendAsync([4, 5, 6], relayed);
        var toClient = await turn.ReceiveAsync();
        Assert.NotNull(toClient);
        Assert.Equal([4, 5, 6], TurnMessages.ReadDataIndication(toClient).Data);
        Assert.False(stopping.IsCompleted, $"the stop ended after {clock.Elapsed} although an allocation was relaying");

        // Then the stop finishes by itself once the grace is over.
        await stopping.WaitAsync(s_grace + TimeSpan.FromSeconds(15));
        Assert.InRange(clock.Elapsed, s_grace - TimeSpan.FromMilliseconds(200), s_grace + TimeSpan.FromSeconds(15));
    }

    [Fact]
    public async Task With_no_allocation_left_the_stop_does_not_wait_for_the_grace()
    {
        await using var server = await RunningServer.StartAsync("http://127.0.0.1:0", "--Drain:TurnGrace=00:01:00");
        var clock = Stopwatch.StartNew();

        await server.App.StopAsync().WaitAsync(TimeSpan.FromSeconds(20));

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20));
    }

    [Fact]
    public async Task A_drain_time_out_of_range_stops_startup_with_its_fix()
    {
        var app = ParleyApp.Build(["--urls", "http://127.0.0.1:0", "--Turn:UdpPort=0", "--Turn:TcpPort=0", "--Drain:TurnGrace=01:00:00"]);

        var error = await Assert.ThrowsAnyAsync<Exception>(() => app.StartAsync());

        Assert.Contains(ParleyApp.ConfigurationProblems(error), f => f.Contains("Drain:TurnGrace", StringComparison.Ordinal));
        await app.DisposeAsync();
    }
}
