using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Parley.TestCommon;

namespace Parley.Signaling.Tests;

/// <summary>A hub on in-memory sockets and a manual clock.</summary>
internal sealed class HubHarness : IDisposable
{
    public static readonly string Key = Convert.ToBase64String(Enumerable.Range(1, 32).Select(i => (byte)i).ToArray());

    private int _next;

    public HubHarness(Action<SignalingOptions>? configure = null, ManualTimeProvider? time = null)
    {
        Options = new SignalingOptions { ResumeKey = Key };
        configure?.Invoke(Options);
        Time = time ?? new ManualTimeProvider();
        var options = Microsoft.Extensions.Options.Options.Create(Options);
        Hub = new SignalingHub(options, Time, new ResumeKeyProvider(options, NullLogger<ResumeKeyProvider>.Instance),
            new IceServerProvider(options, Time, Sources), NullLogger<SignalingHub>.Instance, new SignalingMetrics(Metrics));
    }

    /// <summary>What the hub's meter recorded.</summary>
    public MetricRecorder Metrics { get; } = new();

    /// <summary>Extra ICE servers, as the embedded TURN server contributes them.</summary>
    public List<IIceServerSource> Sources { get; } = [];

    public SignalingOptions Options { get; }
    public ManualTimeProvider Time { get; }
    public SignalingHub Hub { get; }

    public TestClient Connect()
    {
        var transport = new InMemoryTransport("c" + Interlocked.Increment(ref _next));
        return new TestClient(transport, Hub.Connect(transport));
    }

    /// <summary>A client that said hello and joined <paramref name="room"/>.</summary>
    public TestClient Joined(string room, string name, string? password = null)
    {
        var client = Connect();
        client.Hello();
        client.Send(new { type = "join", room, name, password });
        client.TakeToken(client.Transport.One("joined"));
        return client;
    }

    public void Dispose()
    {
        Hub.Dispose();
        Metrics.Dispose();
    }
}

internal sealed class TestClient(InMemoryTransport transport, SignalingConnection? connection)
{
    public InMemoryTransport Transport { get; } = transport;
    public SignalingConnection Connection { get; } = connection ?? throw new InvalidOperationException("refused");
    public string PeerId { get; private set; } = "";
    public string Token { get; private set; } = "";

    public void Send(object message) => Connection.Receive(JsonSerializer.SerializeToUtf8Bytes(message));

    public void SendRaw(string text) => Connection.Receive(System.Text.Encoding.UTF8.GetBytes(text));

    public JsonElement Hello(object? resume = null)
    {
        Send(resume is null ? new { type = "hello", protocol = 1 } : new { type = "hello", protocol = 1, resume });
        var welcome = Transport.One("welcome");
        PeerId = welcome.GetProperty("peerId").GetString()!;
        Token = welcome.GetProperty("resumeToken").GetString()!;
        return welcome;
    }

    public void TakeToken(JsonElement message) => Token = message.GetProperty("resumeToken").GetString()!;

    public JsonElement ResumeAs(TestClient previous) => Hello(new { peerId = previous.PeerId, token = previous.Token });

    public string ErrorId()
    {
        var error = Transport.One("error");
        return error.GetProperty("id").GetString()!;
    }
}
