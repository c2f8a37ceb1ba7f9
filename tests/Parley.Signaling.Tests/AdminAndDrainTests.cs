using Parley.TestCommon;

namespace Parley.Signaling.Tests;

/// <summary>Operator actions and shutdown, in memory and virtual time.</summary>
public sealed class AdminAndDrainTests
{
    [Fact]
    public void After_shutdown_a_new_socket_is_refused_with_server_draining_and_1001()
    {
        using var harness = new HubHarness();
        var ana = harness.Joined("r", "Ana");

        harness.Hub.Shutdown();
        var transport = new InMemoryTransport("late");
        var connection = harness.Hub.Connect(transport);

        Assert.Equal(CloseCodes.GoingAway, ana.Transport.ClosedWith);
        Assert.True(harness.Hub.IsShuttingDown);
        Assert.Null(connection);
        Assert.Equal("server-draining", transport.One("error").GetProperty("id").GetString());
        Assert.Equal(CloseCodes.GoingAway, transport.ClosedWith);
    }

    [Fact]
    public void Closing_a_room_ends_present_and_away_members_without_telling_them_of_each_other()
    {
        using var harness = new HubHarness();
        var ana = harness.Joined("r", "Ana");
        var bo = harness.Joined("r", "Bo");
        var cy = harness.Joined("r", "Cy");
        var other = harness.Joined("s", "Di");
        cy.Connection.Disconnected(null); // away, in its grace period
        ana.Transport.Drain();
        bo.Transport.Drain();

        Assert.True(harness.Hub.CloseRoom("r"));

        foreach (var member in new[] { ana, bo })
        {
            Assert.Equal("room-closed", member.Transport.One("error").GetProperty("id").GetString());
            Assert.Empty(member.Transport.Take("peer-left"));
            Assert.Equal(CloseCodes.RoomClosed, member.Transport.ClosedWith);
        }
        Assert.Equal(["s"], harness.Hub.SnapshotRooms().Select(r => r.Name));
        Assert.Null(other.Transport.ClosedWith);
        foreach (var gone in new[] { ana, cy })
            Assert.False(harness.Connect().ResumeAs(gone).GetProperty("resumed").GetBoolean());
        Assert.False(harness.Hub.CloseRoom("r"));
    }

    [Fact]
    public void Disconnecting_a_session_tells_it_and_its_room_and_its_token_is_dead()
    {
        using var harness = new HubHarness();
        var ana = harness.Joined("r", "Ana");
        var bo = harness.Joined("r", "Bo");
        ana.Transport.Drain();

        Assert.True(harness.Hub.DisconnectSession(bo.PeerId));

        Assert.Equal("session-closed", bo.Transport.One("error").GetProperty("id").GetString());
        Assert.Equal(CloseCodes.SessionClosed, bo.Transport.ClosedWith);
        var left = ana.Transport.One("peer-left");
        Assert.Equal(bo.PeerId, left.GetProperty("peerId").GetString());
        Assert.Equal("kicked", left.GetProperty("reason").GetString());
        Assert.False(harness.Connect().ResumeAs(bo).GetProperty("resumed").GetBoolean());
        Assert.False(harness.Hub.DisconnectSession(bo.PeerId));
    }

    [Fact]
    public void The_room_snapshot_dates_the_call_from_the_longest_present_member_and_marks_the_away()
    {
        using var harness = new HubHarness();
        var start = harness.Time.GetUtcNow().ToUnixTimeMilliseconds();
        var ana = harness.Joined("r", "Ana");
        harness.Time.Advance(TimeSpan.FromSeconds(20)); // within the heartbeat timeout
        var bo = harness.Joined("r", "Bo");
        bo.Connection.Disconnected(null);

        var room = Assert.Single(harness.Hub.SnapshotRooms());

        Assert.Equal(start, room.CallStartedAtMs);
        Assert.False(room.PasswordProtected);
        Assert.Equal([(ana.PeerId, false), (bo.PeerId, true)], room.Members.Select(m => (m.PeerId, m.Away)));
    }
}
