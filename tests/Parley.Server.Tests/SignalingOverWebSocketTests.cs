using System.Net.WebSockets;
using System.Text;

namespace Parley.Server.Tests;

public sealed class SignalingOverWebSocketTests
{
    [Fact]
    public async Task Two_clients_join_and_relay_an_offer_over_real_sockets()
    {
        await using var server = await RunningServer.StartAsync();
        await using var ana = await WsClient.WelcomedAsync(server.WebSocketUri);
        await using var bo = await WsClient.WelcomedAsync(server.WebSocketUri);
        await ana.JoinAsync("room1", "Ana");
        await bo.JoinAsync("room1", "Bo");
        await ana.ReceiveAsync("peer-joined");

        await ana.SendAsync(new { type = "sdp", to = bo.PeerId, description = new { type = "offer", sdp = "v=0\r\n" } });

        var sdp = await bo.ReceiveAsync("sdp");
        Assert.Equal(ana.PeerId, sdp.GetProperty("from").GetString());
    }

    /// <summary>Each bad input gets its error, the socket stays up, and a call on the same server goes on.</summary>
    [Theory]
    [InlineData("json")]
    [InlineData("type")]
    [InlineData("field")]
    [InlineData("size")]
    [InlineData("binary")]
    [InlineData("flood")]
    [InlineData("name")]
    [InlineData("room")]
    [InlineData("stranger")]
    public async Task Bad_input_gets_its_error_and_does_not_disturb_anyone_else(string kind)
    {
        await using var server = await RunningServer.StartAsync("http://127.0.0.1:0", "--Signaling:MessagesPerSecond=20");
        await using var ana = await WsClient.WelcomedAsync(server.WebSocketUri);
        await using var bo = await WsClient.WelcomedAsync(server.WebSocketUri);
        await ana.JoinAsync("call", "Ana");
        await bo.JoinAsync("call", "Bo");
        await using var attacker = await WsClient.WelcomedAsync(server.WebSocketUri);

        var expected = kind switch
        {
            "json" => await Send(attacker.SendTextAsync("{\"type\":"), "bad-json"),
            "type" => await Send(attacker.SendAsync(new { type = "launch" }), "unknown-type"),
            "field" => await Send(attacker.SendAsync(new { type = "join", room = "call" }), "bad-message"),
            "size" => await Send(attacker.SendTextAsync("{\"type\":\"ping\",\"pad\":\"" + new string('x', 70_000) + "\"}"), "message-too-large"),
            "binary" => await Send(attacker.SendBinaryAsync([1, 2, 3]), "binary-not-supported"),
            "flood" => await Send(Flood(attacker, 500), "rate-limited"),
            "name" => await Send(attacker.SendAsync(new { type = "join", room = "other", name = "\u0007bell" }), "invalid-name"),
            "room" => await Send(attacker.SendAsync(new { type = "join", room = "../etc", name = "x" }), "invalid-room"),
            "stranger" => await Send(attacker.SendAsync(new { type = "sdp", to = ana.PeerId, description = new { type = "offer", sdp = "v=0" } }), "not-in-room"),
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };

        Assert.Equal(expected, await attacker.ReceiveErrorIdAsync());
        Assert.Equal(WebSocketState.Open, attacker.State);
        if (kind == "flood")
            await Task.Delay(1100); // let the rate limiter refill; this is not a wait for an outcome
        await attacker.SendAsync(new { type = "ping" });
        await attacker.ReceiveAsync("pong");

        await ana.SendAsync(new { type = "candidate", to = bo.PeerId, candidate = new { candidate = "candidate:1 1 udp 1 127.0.0.1 9 typ host", sdpMid = "0" } });
        Assert.Equal(ana.PeerId, (await bo.ReceiveAsync("candidate")).GetProperty("from").GetString());
    }

    private static async Task<string> Send(Task sending, string errorId)
    {
        await sending;
        return errorId;
    }

    private static async Task Flood(WsClient client, int count)
    {
        for (var i = 0; i < count; i++)
            await client.SendAsync(new { type = "ping" });
    }

    [Fact]
    public async Task A_message_to_a_member_of_another_room_is_refused_and_not_delivered()
    {
        await using var server = await RunningServer.StartAsync();
        await using var ana = await WsClient.WelcomedAsync(server.WebSocketUri);
        await using var eve = await WsClient.WelcomedAsync(server.WebSocketUri);
        await ana.JoinAsync("a", "Ana");
        await eve.JoinAsync("b", "Eve");

        await ana.SendAsync(new { type = "sdp", to = eve.PeerId, description = new { type = "offer", sdp = "v=0" } });
        Assert.Equal("unknown-peer", await ana.ReceiveErrorIdAsync());

        // Eve's next message is the pong to her own ping, not Ana's offer.
        await eve.SendAsync(new { type = "ping" });
        var next = await eve.ReceiveAsync("pong");
        Assert.Equal("pong", next.GetProperty("type").GetString());
    }

    [Fact]
    public async Task A_tab_closing_with_going_away_leaves_the_room_at_once()
    {
        await using var server = await RunningServer.StartAsync();
        await using var ana = await WsClient.WelcomedAsync(server.WebSocketUri);
        await using var bo = await WsClient.WelcomedAsync(server.WebSocketUri);
        await ana.JoinAsync("r", "Ana");
        await bo.JoinAsync("r", "Bo");

        await bo.CloseAsync(WebSocketCloseStatus.EndpointUnavailable);

        var left = await ana.ReceiveAsync("peer-left");
        Assert.Equal("left", left.GetProperty("reason").GetString());
    }

    [Fact]
    public async Task A_lost_socket_is_away_and_resumes_with_the_same_peer_id()
    {
        await using var server = await RunningServer.StartAsync();
        await using var ana = await WsClient.WelcomedAsync(server.WebSocketUri);
        var bo = await WsClient.WelcomedAsync(server.WebSocketUri);
        await ana.JoinAsync("r", "Ana");
        await bo.JoinAsync("r", "Bo");

        bo.Abort();
        Assert.Equal(bo.PeerId, (await ana.ReceiveAsync("peer-away")).GetProperty("peerId").GetString());
        await using var again = await WsClient.ConnectAsync(server.WebSocketUri);
        var welcome = await again.HelloAsync(new { peerId = bo.PeerId, token = bo.Token });

        Assert.True(welcome.GetProperty("resumed").GetBoolean());
        Assert.Equal(bo.PeerId, again.PeerId);
        Assert.Equal(bo.PeerId, (await ana.ReceiveAsync("peer-back")).GetProperty("peerId").GetString());
        await bo.DisposeAsync();
    }

    [Fact]
    public async Task Sessions_and_rooms_survive_a_server_restart_on_the_same_port()
    {
        var first = await RunningServer.StartAsync();
        var url = first.BaseUri.ToString().TrimEnd('/');
        var ana = await WsClient.WelcomedAsync(first.WebSocketUri);
        var bo = await WsClient.WelcomedAsync(first.WebSocketUri);
        await ana.JoinAsync("r", "Ana");
        await bo.JoinAsync("r", "Bo");

        await first.DisposeAsync();
        Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, await ana.ReceiveCloseAsync());
        await using var second = await RunningServer.StartAsync(url);
        await using var ana2 = await WsClient.ConnectAsync(second.WebSocketUri);
        await using var bo2 = await WsClient.ConnectAsync(second.WebSocketUri);
        var anaBack = await ana2.HelloAsync(new { peerId = ana.PeerId, token = ana.Token });
        var boBack = await bo2.HelloAsync(new { peerId = bo.PeerId, token = bo.Token });

        Assert.True(anaBack.GetProperty("resumed").GetBoolean());
        Assert.True(boBack.GetProperty("resumed").GetBoolean());
        Assert.Equal(ana.PeerId, ana2.PeerId);
        Assert.Equal(ana.PeerId, boBack.GetProperty("room").GetProperty("members")[0].GetProperty("peerId").GetString());
        await ana2.SendAsync(new { type = "restart-request", to = bo.PeerId });
        await bo2.ReceiveAsync("restart-request");
        await ana.DisposeAsync();
        await bo.DisposeAsync();
    }

    [Fact]
    public async Task Hundreds_of_garbage_frames_from_many_sockets_leave_the_server_healthy()
    {
        await using var server = await RunningServer.StartAsync();
        var random = new Random(1234);
        var sockets = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => WsClient.ConnectAsync(server.WebSocketUri)));
        foreach (var socket in sockets)
        {
            for (var i = 0; i < 10; i++)
            {
                var junk = new byte[random.Next(1, 300)];
                random.NextBytes(junk);
                await socket.SendTextAsync(Encoding.UTF8.GetString(junk));
            }
        }

        await using var ana = await WsClient.WelcomedAsync(server.WebSocketUri);
        await ana.JoinAsync("r", "Ana");
        using var http = new HttpClient { BaseAddress = server.BaseUri };
        Assert.Equal(System.Net.HttpStatusCode.OK, (await http.GetAsync("/healthz")).StatusCode);
        foreach (var socket in sockets)
            await socket.DisposeAsync();
    }
}
