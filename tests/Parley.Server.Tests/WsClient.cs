using System.Net.WebSockets;
using System.Text;
using System.Text.Json;

namespace Parley.Server.Tests;

/// <summary>A real WebSocket client speaking the signaling protocol, with bounded waits.</summary>
public sealed class WsClient : IAsyncDisposable
{
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(10);
    private readonly ClientWebSocket _socket = new();
    private readonly byte[] _buffer = new byte[1 << 20];

    public string PeerId { get; private set; } = "";
    public string Token { get; private set; } = "";
    public WebSocketState State => _socket.State;
    public WebSocketCloseStatus? CloseStatus => _socket.CloseStatus;

    public static async Task<WsClient> ConnectAsync(Uri uri)
    {
        var client = new WsClient();
        if (uri.Scheme == "wss")
        {
            // The tests' certificates are self-signed on purpose (HttpsHost).
            client._socket.Options.RemoteCertificateValidationCallback = (_, certificate, _, _) => certificate is not null;
        }
        using var timeout = new CancellationTokenSource(s_wait);
        await client._socket.ConnectAsync(uri, timeout.Token);
        return client;
    }

    public static async Task<WsClient> WelcomedAsync(Uri uri)
    {
        var client = await ConnectAsync(uri);
        await client.HelloAsync();
        return client;
    }

    public async Task<JsonElement> HelloAsync(object? resume = null)
    {
        await SendAsync(resume is null ? new { type = "hello", protocol = 1 } : new { type = "hello", protocol = 1, resume });
        var welcome = await ReceiveAsync("welcome");
        PeerId = welcome.GetProperty("peerId").GetString()!;
        Token = welcome.GetProperty("resumeToken").GetString()!;
        return welcome;
    }

    public async Task<JsonElement> JoinAsync(string room, string name)
    {
        await SendAsync(new { type = "join", room, name });
        var joined = await ReceiveAsync("joined");
        Token = joined.GetProperty("resumeToken").GetString()!;
        return joined;
    }

    public Task SendAsync(object message) => SendTextAsync(JsonSerializer.Serialize(message));

    public async Task SendTextAsync(string text)
    {
        using var timeout = new CancellationTokenSource(s_wait);
        await _socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, timeout.Token);
    }

    public async Task SendBinaryAsync(byte[] bytes)
    {
        using var timeout = new CancellationTokenSource(s_wait);
        await _socket.SendAsync(bytes, WebSocketMessageType.Binary, true, timeout.Token);
    }

    /// <summary>The next message of <paramref name="type"/>, skipping others; fails after 10 s.</summary>
    public async Task<JsonElement> ReceiveAsync(string type)
    {
        using var timeout = new CancellationTokenSource(s_wait);
        while (true)
        {
            var message = await ReceiveAnyAsync(timeout.Token)
                ?? throw new InvalidOperationException($"Socket closed ({_socket.CloseStatus}) while waiting for '{type}'.");
            if (message.GetProperty("type").GetString() == type)
                return message;
        }
    }

    public async Task<string> ReceiveErrorIdAsync() => (await ReceiveAsync("error")).GetProperty("id").GetString()!;

    /// <summary>Waits until the server closes the socket; returns the close status.</summary>
    public async Task<WebSocketCloseStatus?> ReceiveCloseAsync()
    {
        using var timeout = new CancellationTokenSource(s_wait);
        while (await ReceiveAnyAsync(timeout.Token) is not null)
        {
        }
        return _socket.CloseStatus;
    }

    private async Task<JsonElement?> ReceiveAnyAsync(CancellationToken cancellationToken)
    {
        var length = 0;
        ValueWebSocketReceiveResult result;
        do
        {
            result = await _socket.ReceiveAsync(_buffer.AsMemory(length), cancellationToken);
            if (result.MessageType == WebSocketMessageType.Close)
                return null;
            length += result.Count;
        }
        while (!result.EndOfMessage);
        return JsonDocument.Parse(_buffer.AsMemory(0, length)).RootElement.Clone();
    }

    public async Task CloseAsync(WebSocketCloseStatus status)
    {
        using var timeout = new CancellationTokenSource(s_wait);
        await _socket.CloseAsync(status, "", timeout.Token);
    }

    public void Abort() => _socket.Abort();

    public async ValueTask DisposeAsync()
    {
        if (_socket.State == WebSocketState.Open)
        {
            try
            {
                await CloseAsync(WebSocketCloseStatus.NormalClosure);
            }
            catch (WebSocketException)
            {
            }
        }
        _socket.Dispose();
    }
}
