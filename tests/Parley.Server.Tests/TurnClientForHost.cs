using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Parley.Turn.FunctionalTests;
using Parley.Turn.Hosting;
using Parley.Turn.Tests;

namespace Parley.Server.Tests;

/// <summary>A TURN client for the embedded server, with the credentials a signaling welcome handed out.</summary>
internal static class TurnClientForHost
{
    public static async Task<TurnTestClient> UdpAsync(RunningServer server, JsonElement welcome)
    {
        var endpoint = server.App.Services.GetRequiredService<TurnEndpoints>().Udp.Single();
        var client = await TurnTestClient.Udp(new IPEndPoint(IPAddress.Loopback, endpoint.Port));
        var turn = welcome.GetProperty("iceServers").EnumerateArray().First(s => s.TryGetProperty("username", out _));
        client.Credentials = new ClientCredentials(turn.GetProperty("username").GetString()!, turn.GetProperty("credential").GetString()!, "parley");
        return client;
    }
}
