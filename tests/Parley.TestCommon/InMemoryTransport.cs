using System.Text;
using System.Text.Json;
using Parley.Signaling;

namespace Parley.TestCommon;

/// <summary>A signaling socket in memory: records what the hub sends and how it closed.</summary>
public sealed class InMemoryTransport(string id, int capacity = 1000) : ISignalingTransport
{
    private readonly Lock _gate = new();
    private readonly Queue<JsonElement> _inbox = new();

    public string Id { get; } = id;
    public int? ClosedWith { get; private set; }
    public bool Full { get; set; }

    public bool TrySend(ReadOnlyMemory<byte> utf8Json)
    {
        lock (_gate)
        {
            if (Full || _inbox.Count >= capacity || ClosedWith is not null)
                return false;
            _inbox.Enqueue(JsonDocument.Parse(utf8Json).RootElement.Clone());
            return true;
        }
    }

    public void Close(int status, string reason)
    {
        lock (_gate)
            ClosedWith ??= status;
    }

    /// <summary>Everything received so far, emptied.</summary>
    public List<JsonElement> Drain()
    {
        lock (_gate)
        {
            var all = _inbox.ToList();
            _inbox.Clear();
            return all;
        }
    }

    /// <summary>Removes and returns the messages of one type.</summary>
    public List<JsonElement> Take(string type)
    {
        lock (_gate)
        {
            var all = _inbox.ToList();
            _inbox.Clear();
            foreach (var other in all.Where(m => m.GetProperty("type").GetString() != type))
                _inbox.Enqueue(other);
            return all.Where(m => m.GetProperty("type").GetString() == type).ToList();
        }
    }

    /// <summary>The one message of <paramref name="type"/> received; fails the test otherwise.</summary>
    public JsonElement One(string type)
    {
        var matches = Take(type);
        if (matches.Count != 1)
            throw new InvalidOperationException($"{Id}: expected one '{type}', got {matches.Count}.");
        return matches[0];
    }

    public static ReadOnlySpan<byte> Utf8(string json) => Encoding.UTF8.GetBytes(json);
}
