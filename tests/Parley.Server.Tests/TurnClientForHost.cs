using System.Net;
using System.Net.Security;
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
        client.Credentials = CredentialsOf(welcome);
        return client;
    }

    /// <summary>A TURN-over-TLS client on <paramref name="port"/> of 127.0.0.1 that trusts only <paramref name="thumbprint"/>.</summary>
    public static async Task<TurnTestClient> TlsAsync(int port, string thumbprint, JsonElement welcome, List<SslApplicationProtocol>? alpn = null)
    {
        var client = await TurnTestClient.Tcp(new IPEndPoint(IPAddress.Loopback, port), thumbprint, alpn);
        client.Credentials = CredentialsOf(welcome);
        return client;
    }

    /// <summary>The minted TURN credentials of a welcome.</summary>
    public static ClientCredentials CredentialsOf(JsonElement welcome)
    {
        var turn = welcome.GetProperty("iceServers").EnumerateArray().First(s => s.TryGetProperty("username", out _));
        return new ClientCredentials(turn.GetProperty("username").GetString()!, turn.GetProperty("credential").GetString()!, "parley");
    }
}
