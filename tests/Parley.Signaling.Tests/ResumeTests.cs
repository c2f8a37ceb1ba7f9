using Parley.TestCommon;

namespace Parley.Signaling.Tests;

public sealed class ResumeTests
{
    [Fact]
    public void A_lost_socket_makes_the_peer_away_and_resuming_within_the_grace_period_keeps_id_and_room()
    {
        using var harness = new HubHarness();
        var ana = harness.Joined("r", "Ana");
        var bo = harness.Joined("r", "Bo");
        ana.Transport.Drain();

        bo.Connection.Disconnected(null);
        Assert.Equal(bo.PeerId, ana.Transport.One("peer-away").GetProperty("peerId").GetString());
        harness.Time.Advance(TimeSpan.FromSeconds(29));
        var again = harness.Connect();
        var welcome = again.ResumeAs(bo);

        Assert.True(welcome.GetProperty("resumed").GetBoolean());
        Assert.Equal(bo.PeerId, again.PeerId);
        var member = Assert.Single(welcome.GetProperty("room").GetProperty("members").EnumerateArray());
        Assert.Equal(ana.PeerId, member.GetProperty("peerId").GetString());
        Assert.True(member.GetProperty("polite").GetBoolean());
        Assert.Equal(bo.PeerId, ana.Transport.One("peer-back").GetProperty("peerId").GetString());
        harness.Time.Advance(TimeSpan.FromSeconds(10));
        Assert.Empty(ana.Transport.Take("peer-left"));
    }

    [Fact]
    public void After_the_grace_period_the_room_is_told_the_peer_left_and_its_token_is_dead()
    {
        using var harness = new HubHarness();
        var ana = harness.Joined("r", "Ana");
        var bo = harness.Joined("r", "Bo");
        ana.Transport.Drain();

        bo.Connection.Disconnected(null);
        harness.Time.Advance(TimeSpan.FromSeconds(29));
        Assert.Empty(ana.Transport.Take("peer-left"));
        harness.Time.Advance(TimeSpan.FromSeconds(2));

        var left = ana.Transport.One("peer-left");
        Assert.Equal("timeout", left.GetProperty("reason").GetString());
        var late = harness.Connect();
        Assert.False(late.ResumeAs(bo).GetProperty("resumed").GetBoolean());
        Assert.NotEqual(bo.PeerId, late.PeerId);
    }

    [Fact]
    public void A_browser_closing_the_tab_leaves_at_once()
    {
        using var harness = new HubHarness();
        var ana = harness.Joined("r", "Ana");
        var bo = harness.Joined("r", "Bo");
        ana.Transport.Drain();

        bo.Connection.Disconnected(CloseCodes.GoingAway);

        Assert.Equal("left", ana.Transport.One("peer-left").GetProperty("reason").GetString());
        Assert.Empty(ana.Transport.Take("peer-away"));
    }

    [Fact]
    public void Bye_leaves_at_once_closes_normally_and_the_token_cannot_revive_the_session()
    {
        using var harness = new HubHarness();
        var ana = harness.Joined("r", "Ana");
        var bo = harness.Joined("r", "Bo");

        bo.Send(new { type = "bye" });

        Assert.Equal(CloseCodes.Normal, bo.Transport.ClosedWith);
        Assert.Equal("left", ana.Transport.One("peer-left").GetProperty("reason").GetString());
        Assert.False(harness.Connect().ResumeAs(bo).GetProperty("resumed").GetBoolean());
    }

    [Fact]
    public void A_resumed_socket_takes_over_a_half_open_one_without_the_room_noticing()
    {
        using var harness = new HubHarness();
        var ana = harness.Joined("r", "Ana");
        var bo = harness.Joined("r", "Bo");
        ana.Transport.Drain();

        var again = harness.Connect();
        Assert.True(again.ResumeAs(bo).GetProperty("resumed").GetBoolean());

        Assert.Equal(CloseCodes.TakenOver, bo.Transport.ClosedWith);
        bo.Connection.Disconnected(null); // the old socket's loop ends afterwards: must change nothing
        Assert.Empty(ana.Transport.Drain());
        ana.Send(new { type = "restart-request", to = bo.PeerId });
        Assert.Single(again.Transport.Take("restart-request"));
    }

    [Fact]
    public void Silence_beyond_the_heartbeat_timeout_drops_the_socket_while_pings_keep_it()
    {
        using var harness = new HubHarness();
        var ana = harness.Joined("r", "Ana");
        var bo = harness.Joined("r", "Bo");

        for (var i = 0; i < 5; i++)
        {
            harness.Time.Advance(TimeSpan.FromSeconds(20));
            ana.Send(new { type = "ping" });
        }

        Assert.Equal(CloseCodes.HeartbeatTimeout, bo.Transport.ClosedWith);
        Assert.Null(ana.Transport.ClosedWith);
        Assert.Equal(5, ana.Transport.Take("pong").Count);
        Assert.Single(ana.Transport.Take("peer-away"));
    }

    [Fact]
    public void Every_pong_carries_a_fresh_token_that_resumes()
    {
        using var harness = new HubHarness();
        var bo = harness.Joined("r", "Bo");
        var joinedToken = bo.Token;
        harness.Time.Advance(TimeSpan.FromSeconds(40));
        bo.Send(new { type = "ping" });
        harness.Time.Advance(TimeSpan.FromSeconds(40));
        bo.Send(new { type = "ping" });
        bo.Transport.Take("pong");
        bo.Send(new { type = "ping" });
        var fresh = bo.Transport.One("pong").GetProperty("resumeToken").GetString()!;
        bo.Connection.Disconnected(null);
        harness.Time.Advance(TimeSpan.FromSeconds(20));

        // The joined token is 100 s old, beyond the 95 s a token is good for; the pong's is 20 s old.
        var stale = harness.Connect().Hello(new { peerId = bo.PeerId, token = joinedToken });
        var again = harness.Connect();
        var welcome = again.Hello(new { peerId = bo.PeerId, token = fresh });

        Assert.False(stale.GetProperty("resumed").GetBoolean());
        Assert.True(welcome.GetProperty("resumed").GetBoolean());
        Assert.Equal(bo.PeerId, again.PeerId);
    }

    [Fact]
    public void A_socket_that_never_says_hello_is_closed()
    {
        using var harness = new HubHarness();
        var silent = harness.Connect();

        harness.Time.Advance(TimeSpan.FromSeconds(11));

        Assert.Equal("hello-timeout", silent.ErrorId());
        Assert.Equal(CloseCodes.ProtocolError, silent.Transport.ClosedWith);
    }

    [Fact]
    public void After_a_server_restart_tokens_rebuild_sessions_and_the_room_with_the_same_roles()
    {
        var time = new ManualTimeProvider();
        TestClient ana, bo;
        using (var before = new HubHarness(time: time))
        {
            ana = before.Joined("r", "Ana", "pw");
            time.Advance(TimeSpan.FromMilliseconds(5));
            bo = before.Joined("r", "Bo", "pw");
        }

        using var after = new HubHarness(time: time);
        time.Advance(TimeSpan.FromSeconds(3));
        var bo2 = after.Connect();
        var boWelcome = bo2.ResumeAs(bo);
        var ana2 = after.Connect();
        var anaWelcome = ana2.ResumeAs(ana);

        Assert.True(boWelcome.GetProperty("resumed").GetBoolean());
        Assert.True(anaWelcome.GetProperty("resumed").GetBoolean());
        Assert.Equal(bo.PeerId, bo2.PeerId);
        Assert.Equal(ana.PeerId, ana2.PeerId);
        var boSeenByAna = Assert.Single(anaWelcome.GetProperty("room").GetProperty("members").EnumerateArray());
        Assert.Equal(bo.PeerId, boSeenByAna.GetProperty("peerId").GetString());
        Assert.False(boSeenByAna.GetProperty("polite").GetBoolean()); // Ana joined first: Bo stays the polite one
        var anaSeenByBo = bo2.Transport.One("peer-joined").GetProperty("member");
        Assert.True(anaSeenByBo.GetProperty("polite").GetBoolean());
        Assert.False(anaSeenByBo.GetProperty("away").GetBoolean());
        Assert.True(anaWelcome.GetProperty("room").GetProperty("passwordProtected").GetBoolean());

        var intruder = after.Connect();
        intruder.Hello();
        intruder.Send(new { type = "join", room = "r", name = "Eve", password = "nope" });
        Assert.Equal("wrong-password", intruder.ErrorId());
    }

    [Fact]
    public void Forged_foreign_or_stale_tokens_do_not_resume()
    {
        using var harness = new HubHarness();
        var ana = harness.Joined("r", "Ana");
        var bo = harness.Joined("r", "Bo");
        var tampered = bo.Token[..^4] + (bo.Token[^4] == 'A' ? "BBBB" : "AAAA");

        Assert.False(harness.Connect().Hello(new { peerId = bo.PeerId, token = tampered }).GetProperty("resumed").GetBoolean());
        Assert.False(harness.Connect().Hello(new { peerId = bo.PeerId, token = ana.Token }).GetProperty("resumed").GetBoolean());
        Assert.False(harness.Connect().Hello(new { peerId = bo.PeerId, token = "not base64 !!" }).GetProperty("resumed").GetBoolean());

        using var otherKey = new HubHarness(o => o.ResumeKey = Convert.ToBase64String(new byte[32]), harness.Time);
        Assert.False(otherKey.Connect().ResumeAs(bo).GetProperty("resumed").GetBoolean());

        using var later = new HubHarness(time: harness.Time);
        harness.Time.Advance(TimeSpan.FromMinutes(2));
        Assert.False(later.Connect().ResumeAs(bo).GetProperty("resumed").GetBoolean());
    }
}
