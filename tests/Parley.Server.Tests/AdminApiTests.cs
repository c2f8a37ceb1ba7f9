using System.Net;
using System.Net.Http.Headers;
using System.Net.WebSockets;
using System.Text.Json;
using Parley.Stun;

namespace Parley.Server.Tests;

/// <summary>The admin API over real HTTP: authorisation, and each action seen by real WebSocket and TURN clients.</summary>
public sealed class AdminApiTests
{
    private const string Token = "test-admin-token-0123456789";

    private static Task<RunningServer> StartAsync(params string[] settings) =>
        RunningServer.StartAsync("http://127.0.0.1:0", [$"--Admin:Token={Token}", .. settings]);

    private static HttpClient Admin(RunningServer server, string? token = Token)
    {
        var http = new HttpClient { BaseAddress = server.BaseUri, Timeout = TimeSpan.FromSeconds(10) };
        if (token is not null)
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return http;
    }

    private static async Task<JsonElement> GetJsonAsync(HttpClient http, string path)
    {
        var response = await http.GetAsync(new Uri(path, UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
    }

    [Fact]
    public async Task Without_a_configured_token_the_admin_api_does_not_exist()
    {
        await using var server = await RunningServer.StartAsync();
        using var http = Admin(server);

        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync(new Uri("/admin/rooms", UriKind.Relative))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.DeleteAsync(new Uri("/admin/rooms/x", UriKind.Relative))).StatusCode);
    }

    [Theory]
    [InlineData("GET", "/admin/rooms")]
    [InlineData("GET", "/admin/turn/allocations")]
    [InlineData("DELETE", "/admin/rooms/any")]
    [InlineData("DELETE", "/admin/sessions/any")]
    public async Task Every_endpoint_needs_the_token_no_token_and_a_wrong_one_get_401(string method, string path)
    {
        await using var server = await StartAsync();
        using var none = Admin(server, token: null);
        using var wrong = Admin(server, token: "not-the-admin-token-at-all");
        using var right = Admin(server);
        HttpRequestMessage Request() => new(new HttpMethod(method), new Uri(path, UriKind.Relative));

        var missing = await none.SendAsync(Request());
        var bad = await wrong.SendAsync(Request());
        var good = await right.SendAsync(Request());

        Assert.Equal(HttpStatusCode.Unauthorized, missing.StatusCode);
        Assert.Equal("Bearer", missing.Headers.WwwAuthenticate.Single().Scheme);
        Assert.Contains("token-required", await missing.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Unauthorized, bad.StatusCode);
        Assert.Contains("invalid_token", bad.Headers.WwwAuthenticate.Single().Parameter, StringComparison.Ordinal);
        Assert.Contains("invalid-token", await bad.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.True(good.StatusCode is HttpStatusCode.OK or HttpStatusCode.NotFound, $"{method} {path} with the token: {good.StatusCode}");
        if (good.StatusCode == HttpStatusCode.NotFound)
            Assert.Contains("unknown-", await good.Content.ReadAsStringAsync(), StringComparison.Ordinal); // the action's own 404
    }

    [Fact]
    public async Task Too_many_wrong_tokens_from_one_address_get_429_even_with_the_right_token_later()
    {
        await using var server = await StartAsync("--Admin:MaxFailures=3");
        using var wrong = Admin(server, token: "not-the-admin-token-at-all");
        using var right = Admin(server);

        for (var i = 0; i < 3; i++)
            Assert.Equal(HttpStatusCode.Unauthorized, (await wrong.GetAsync(new Uri("/admin/rooms", UriKind.Relative))).StatusCode);
        var blocked = await right.GetAsync(new Uri("/admin/rooms", UriKind.Relative));

        Assert.Equal((HttpStatusCode)429, blocked.StatusCode);
        Assert.NotNull(blocked.Headers.RetryAfter);
    }

    [Fact]
    public async Task A_short_token_stops_startup_with_its_fix()
    {
        var app = ParleyApp.Build(["--urls", "http://127.0.0.1:0", "--Turn:UdpPort=0", "--Turn:TcpPort=0", "--Admin:Token=short"]);

        var error = await Assert.ThrowsAnyAsync<Exception>(() => app.StartAsync());

        Assert.Contains(ParleyApp.ConfigurationProblems(error), f => f.Contains("Admin:Token", StringComparison.Ordinal));
        await app.DisposeAsync();
    }

    [Fact]
    public async Task Rooms_are_listed_with_counts_duration_and_password_but_no_display_names()
    {
        await using var server = await StartAsync();
        using var http = Admin(server);
        await using var ana = await WsClient.WelcomedAsync(server.WebSocketUri);
        await using var bo = await WsClient.WelcomedAsync(server.WebSocketUri);
        await ana.SendAsync(new { type = "join", room = "alpha", name = "Ana Secretname", password = "pw" });
        await ana.ReceiveAsync("joined");
        await bo.SendAsync(new { type = "join", room = "alpha", name = "Bo Secretname", password = "pw" });
        await bo.ReceiveAsync("joined");

        var response = await http.GetAsync(new Uri("/admin/rooms", UriKind.Relative));
        var text = await response.Content.ReadAsStringAsync();
        var room = JsonDocument.Parse(text).RootElement.GetProperty("rooms").EnumerateArray().Single();

        Assert.Equal("alpha", room.GetProperty("name").GetString());
        Assert.Equal(2, room.GetProperty("participants").GetInt32());
        Assert.Equal(0, room.GetProperty("away").GetInt32());
        Assert.True(room.GetProperty("passwordProtected").GetBoolean());
        Assert.InRange(room.GetProperty("callDurationSeconds").GetInt64(), 0, 60);
        Assert.True(room.GetProperty("callStartedAt").GetDateTimeOffset() <= DateTimeOffset.UtcNow);
        Assert.Equal([ana.PeerId, bo.PeerId], room.GetProperty("members").EnumerateArray().Select(m => m.GetProperty("peerId").GetString()));
        Assert.DoesNotContain("Secretname", text, StringComparison.Ordinal);
        Assert.DoesNotContain("\"pw\"", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Closing_a_room_tells_every_member_and_ends_their_sessions()
    {
        await using var server = await StartAsync();
        using var http = Admin(server);
        await using var ana = await WsClient.WelcomedAsync(server.WebSocketUri);
        await using var bo = await WsClient.WelcomedAsync(server.WebSocketUri);
        await using var other = await WsClient.WelcomedAsync(server.WebSocketUri);
        await ana.JoinAsync("closing", "Ana");
        await bo.JoinAsync("closing", "Bo");
        await other.JoinAsync("staying", "Cy");

        var closed = await http.DeleteAsync(new Uri("/admin/rooms/closing", UriKind.Relative));

        Assert.Equal(HttpStatusCode.NoContent, closed.StatusCode);
        foreach (var member in new[] { ana, bo })
        {
            Assert.Equal("room-closed", await member.ReceiveErrorIdAsync());
            Assert.Equal((WebSocketCloseStatus)4003, await member.ReceiveCloseAsync());
        }
        var rooms = (await GetJsonAsync(http, "/admin/rooms")).GetProperty("rooms");
        Assert.Equal(["staying"], rooms.EnumerateArray().Select(r => r.GetProperty("name").GetString()));
        Assert.Equal(WebSocketState.Open, other.State);

        // A resume does not bring the session back into the closed room.
        await using var again = await WsClient.ConnectAsync(server.WebSocketUri);
        var welcome = await again.HelloAsync(new { peerId = ana.PeerId, token = ana.Token });
        Assert.False(welcome.GetProperty("resumed").GetBoolean());
        Assert.Equal(HttpStatusCode.NotFound, (await http.DeleteAsync(new Uri("/admin/rooms/closing", UriKind.Relative))).StatusCode);
    }

    [Fact]
    public async Task Disconnecting_a_session_tells_it_and_its_room_and_it_cannot_resume()
    {
        await using var server = await StartAsync();
        using var http = Admin(server);
        await using var ana = await WsClient.WelcomedAsync(server.WebSocketUri);
        await using var bo = await WsClient.WelcomedAsync(server.WebSocketUri);
        await ana.JoinAsync("kick", "Ana");
        await bo.JoinAsync("kick", "Bo");

        var disconnected = await http.DeleteAsync(new Uri($"/admin/sessions/{bo.PeerId}", UriKind.Relative));

        Assert.Equal(HttpStatusCode.NoContent, disconnected.StatusCode);
        Assert.Equal("session-closed", await bo.ReceiveErrorIdAsync());
        Assert.Equal((WebSocketCloseStatus)4004, await bo.ReceiveCloseAsync());
        var left = await ana.ReceiveAsync("peer-left");
        Assert.Equal(bo.PeerId, left.GetProperty("peerId").GetString());
        Assert.Equal("kicked", left.GetProperty("reason").GetString());
        await using var again = await WsClient.ConnectAsync(server.WebSocketUri);
        Assert.False((await again.HelloAsync(new { peerId = bo.PeerId, token = bo.Token })).GetProperty("resumed").GetBoolean());
        Assert.Equal(HttpStatusCode.NotFound, (await http.DeleteAsync(new Uri($"/admin/sessions/{bo.PeerId}", UriKind.Relative))).StatusCode);
    }

    [Fact]
    public async Task Turn_allocations_are_listed_with_relay_address_and_peer_id_but_no_credentials()
    {
        await using var server = await StartAsync();
        using var http = Admin(server);
        await using var ana = await WsClient.ConnectAsync(server.WebSocketUri);
        var welcome = await ana.HelloAsync();
        await using var turn = await TurnClientForHost.UdpAsync(server, welcome);
        var allocate = await turn.AllocateAsync();
        Assert.Equal(StunClass.SuccessResponse, allocate.Class);

        var response = await http.GetAsync(new Uri("/admin/turn/allocations", UriKind.Relative));
        var text = await response.Content.ReadAsStringAsync();
        var body = JsonDocument.Parse(text).RootElement;

        Assert.True(body.GetProperty("enabled").GetBoolean());
        Assert.False(body.GetProperty("draining").GetBoolean());
        Assert.Equal(1, body.GetProperty("count").GetInt32());
        var allocation = body.GetProperty("allocations").EnumerateArray().Single();
        Assert.Equal(ana.PeerId, allocation.GetProperty("userId").GetString());
        Assert.Equal("udp", allocation.GetProperty("protocol").GetString());
        Assert.Equal([allocate.Relayed.Single().ToString()], allocation.GetProperty("relayAddresses").EnumerateArray().Select(a => a.GetString()));
        Assert.InRange(allocation.GetProperty("ageSeconds").GetDouble(), 0, 60);
        Assert.True(allocation.GetProperty("expiresInSeconds").GetDouble() > 0);
        Assert.DoesNotContain(turn.Credentials!.Password, text, StringComparison.Ordinal);
        Assert.DoesNotContain(turn.Credentials.Username, text, StringComparison.Ordinal);
    }
}
