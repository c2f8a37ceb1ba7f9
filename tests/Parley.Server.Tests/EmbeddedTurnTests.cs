using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Parley.Turn.Hosting;

namespace Parley.Server.Tests;

public sealed class EmbeddedTurnTests
{
    [Fact]
    public async Task The_welcome_lists_the_embedded_stun_and_turn_urls_with_minted_credentials()
    {
        await using var server = await RunningServer.StartAsync();
        var endpoints = server.App.Services.GetRequiredService<TurnEndpoints>();
        await using var client = await WsClient.ConnectAsync(server.WebSocketUri);

        var welcome = await client.HelloAsync();

        var servers = welcome.GetProperty("iceServers");
        var udp = endpoints.Udp.Single().Port;
        var tcp = endpoints.Tcp.Single().Port;
        Assert.Equal($"stun:127.0.0.1:{udp}", servers[0].GetProperty("urls")[0].GetString());
        var turn = servers[1];
        Assert.Equal($"turn:127.0.0.1:{udp}?transport=udp", turn.GetProperty("urls")[0].GetString());
        Assert.Equal($"turn:127.0.0.1:{tcp}?transport=tcp", turn.GetProperty("urls")[1].GetString());
        Assert.EndsWith(":" + client.PeerId, turn.GetProperty("username").GetString(), StringComparison.Ordinal);
        Assert.True(welcome.GetProperty("iceServersExpireAtMs").GetInt64() > DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
    }

    [Fact]
    public async Task The_embedded_server_answers_stun_binding_requests_on_its_udp_port()
    {
        await using var server = await RunningServer.StartAsync();
        var port = server.App.Services.GetRequiredService<TurnEndpoints>().Udp.Single().Port;
        using var udp = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        // Binding request: type 0x0001, length 0, magic cookie, 12-byte transaction id.
        byte[] request = [0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xA4, 0x42, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];

        await udp.SendAsync(request, new IPEndPoint(IPAddress.Loopback, port));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        var response = (await udp.ReceiveAsync(timeout.Token)).Buffer;

        Assert.Equal(0x0101, (response[0] << 8) | response[1]); // Binding success response
        Assert.Equal(request[8..20], response[8..20]);
    }

    [Fact]
    public async Task Turn_can_be_switched_off()
    {
        await using var server = await RunningServer.StartAsync("http://127.0.0.1:0", "--Turn:Enabled=false");
        await using var client = await WsClient.ConnectAsync(server.WebSocketUri);

        var welcome = await client.HelloAsync();

        Assert.Equal(0, welcome.GetProperty("iceServers").GetArrayLength());
    }
}
