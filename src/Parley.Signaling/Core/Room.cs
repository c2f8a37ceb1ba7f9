namespace Parley.Signaling;

/// <summary>A named set of sessions that see each other; exists while it has members.</summary>
internal sealed class Room(string name, int capacity, RoomPassword? password)
{
    public string Name { get; } = name;
    public int Capacity { get; } = capacity;
    public RoomPassword? Password { get; } = password;

    /// <summary>Members in join order, including those in their grace period (they keep their seat).</summary>
    public List<Session> Members { get; } = [];

    public bool IsFull => Members.Count >= Capacity;
}
