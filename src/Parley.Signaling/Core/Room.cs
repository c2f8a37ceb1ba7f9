namespace Parley.Signaling;

/// <summary>A named set of sessions that see each other; exists while it has members.</summary>
internal sealed class Room(string name, int capacity, RoomPassword? password)
{
    private static long s_nextId;

    public string Name { get; } = name;

    /// <summary>A short id for logs at Information: the name is the invite (for a room without a password, knowing it is enough to join).</summary>
    public string Id { get; } = "room-" + Interlocked.Increment(ref s_nextId).ToString(System.Globalization.CultureInfo.InvariantCulture);
    public int Capacity { get; } = capacity;
    public RoomPassword? Password { get; } = password;

    /// <summary>Members in join order, including those in their grace period (they keep their seat).</summary>
    public List<Session> Members { get; } = [];

    public bool IsFull => Members.Count >= Capacity;
}
