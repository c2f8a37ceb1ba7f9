namespace Parley.Signaling.Tests;

public sealed class RoutingTests
{
    [Fact]
    public void An_offer_reaches_its_addressee_marked_with_the_sender()
    {
        using var harness = new HubHarness();
        var ana = harness.Joined("r", "Ana");
        var bo = harness.Joined("r", "Bo");

        ana.Send(new { type = "sdp", to = bo.PeerId, description = new { type = "offer", sdp = "v=0" } });

        var sdp = bo.Transport.One("sdp");
        Assert.Equal(ana.PeerId, sdp.GetProperty("from").GetString());
        Assert.Equal("offer", sdp.GetProperty("description").GetProperty("type").GetString());
        Assert.Equal("v=0", sdp.GetProperty("description").GetProperty("sdp").GetString());
        Assert.False(sdp.TryGetProperty("to", out _));
    }

    [Fact]
    public void Candidates_including_end_of_candidates_and_restart_requests_are_relayed()
    {
        using var harness = new HubHarness();
        var ana = harness.Joined("r", "Ana");
        var bo = harness.Joined("r", "Bo");

        ana.Send(new { type = "candidate", to = bo.PeerId, candidate = new { candidate = "candidate:1 1 udp 1 127.0.0.1 5000 typ host", sdpMid = "0", sdpMLineIndex = 0 } });
        ana.Send(new { type = "candidate", to = bo.PeerId, candidate = (object?)null });
        bo.Send(new { type = "restart-request", to = ana.PeerId });

        var candidates = bo.Transport.Take("candidate");
        Assert.Equal(2, candidates.Count);
        Assert.Equal("0", candidates[0].GetProperty("candidate").GetProperty("sdpMid").GetString());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, candidates[1].GetProperty("candidate").ValueKind);
        Assert.Equal(bo.PeerId, ana.Transport.One("restart-request").GetProperty("from").GetString());
    }

    [Fact]
    public void A_message_to_someone_in_another_room_is_refused_and_never_delivered()
    {
        using var harness = new HubHarness();
        var ana = harness.Joined("r1", "Ana");
        var eve = harness.Joined("r2", "Eve");

        ana.Send(new { type = "sdp", to = eve.PeerId, description = new { type = "offer", sdp = "v=0" } });

        Assert.Equal("unknown-peer", ana.ErrorId());
        Assert.Empty(eve.Transport.Take("sdp"));
    }

    [Fact]
    public void A_message_to_an_unknown_peer_to_oneself_or_outside_a_room_is_refused()
    {
        using var harness = new HubHarness();
        var ana = harness.Joined("r", "Ana");
        var loner = harness.Connect();
        loner.Hello();

        ana.Send(new { type = "restart-request", to = "nobody" });
        Assert.Equal("unknown-peer", ana.ErrorId());
        ana.Send(new { type = "restart-request", to = ana.PeerId });
        Assert.Equal("unknown-peer", ana.ErrorId());
        loner.Send(new { type = "restart-request", to = ana.PeerId });
        Assert.Equal("not-in-room", loner.ErrorId());
        Assert.Empty(ana.Transport.Take("restart-request"));
    }

    [Fact]
    public void Only_offers_and_answers_travel()
    {
        using var harness = new HubHarness();
        var ana = harness.Joined("r", "Ana");
        var bo = harness.Joined("r", "Bo");

        ana.Send(new { type = "sdp", to = bo.PeerId, description = new { type = "pranswer", sdp = "v=0" } });

        Assert.Equal("bad-message", ana.ErrorId());
        Assert.Empty(bo.Transport.Take("sdp"));
    }
}
