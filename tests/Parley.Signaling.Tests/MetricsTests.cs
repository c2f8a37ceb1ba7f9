namespace Parley.Signaling.Tests;

/// <summary>The hub's metrics (meter Parley.Signaling): what is counted, under which bounded labels.</summary>
public sealed class MetricsTests
{
    [Fact]
    public void Messages_are_counted_by_type_and_unknown_or_unreadable_ones_as_other()
    {
        using var hub = new HubHarness();
        var ana = hub.Connect();
        ana.Hello();
        ana.Send(new { type = "ping" });
        ana.Send(new { type = "ping" });
        ana.Send(new { type = "launch-missiles" });
        ana.SendRaw("{not json");

        Assert.Equal(1, hub.Metrics.Sum("parley.signaling.messages", "type=hello"));
        Assert.Equal(2, hub.Metrics.Sum("parley.signaling.messages", "type=ping"));
        Assert.Equal(2, hub.Metrics.Sum("parley.signaling.messages", "type=other"));
        Assert.Empty(hub.Metrics.Values("parley.signaling.messages", "type=launch-missiles"));
    }

    [Fact]
    public void Errors_are_counted_by_their_id()
    {
        using var hub = new HubHarness();
        var ana = hub.Connect();
        ana.Send(new { type = "ping" });                                         // hello-required
        ana.Hello();
        ana.Send(new { type = "nope" });                                         // unknown-type
        ana.SendRaw("[]");                                                       // bad-json
        ana.Send(new { type = "restart-request", to = "x" });                    // not-in-room
        ana.Send(new { type = "restart-request", to = "y" });                    // not-in-room

        Assert.Equal(1, hub.Metrics.Sum("parley.signaling.errors", "error=hello-required"));
        Assert.Equal(1, hub.Metrics.Sum("parley.signaling.errors", "error=unknown-type"));
        Assert.Equal(1, hub.Metrics.Sum("parley.signaling.errors", "error=bad-json"));
        Assert.Equal(2, hub.Metrics.Sum("parley.signaling.errors", "error=not-in-room"));
    }

    [Fact]
    public void Gauges_follow_connections_sessions_rooms_and_participants()
    {
        using var hub = new HubHarness();
        var ana = hub.Joined("a", "Ana");
        var bo = hub.Joined("a", "Bo");
        hub.Joined("b", "Cy");
        var lurker = hub.Connect();

        Assert.Equal(4, hub.Metrics.Observe("parley.signaling.connections"));
        Assert.Equal(3, hub.Metrics.Observe("parley.signaling.sessions"));
        Assert.Equal(2, hub.Metrics.Observe("parley.signaling.rooms"));
        Assert.Equal(3, hub.Metrics.Observe("parley.signaling.participants"));

        bo.Send(new { type = "leave" });
        ana.Send(new { type = "bye" });
        lurker.Connection.Disconnected(1001);

        Assert.Equal(2, hub.Metrics.Observe("parley.signaling.connections"));
        Assert.Equal(2, hub.Metrics.Observe("parley.signaling.sessions"));
        Assert.Equal(1, hub.Metrics.Observe("parley.signaling.rooms"));
        Assert.Equal(1, hub.Metrics.Observe("parley.signaling.participants"));
    }

    [Fact]
    public void A_call_starts_with_the_first_offer_between_two_members_and_again_only_after_one_left()
    {
        using var hub = new HubHarness();
        var ana = hub.Joined("a", "Ana");
        var bo = hub.Joined("a", "Bo");
        var cy = hub.Joined("a", "Cy");

        Offer(ana, bo);
        bo.Send(new { type = "sdp", to = ana.PeerId, description = new { type = "answer", sdp = "v=0" } });
        Offer(bo, ana); // renegotiation or ICE restart: the same call
        Assert.Equal(1, hub.Metrics.Sum("parley.calls.started"));

        Offer(cy, ana);
        Offer(cy, bo);
        Assert.Equal(3, hub.Metrics.Sum("parley.calls.started"));

        bo.Send(new { type = "leave" });
        bo.Send(new { type = "join", room = "a", name = "Bo" });
        Offer(ana, bo);
        Assert.Equal(4, hub.Metrics.Sum("parley.calls.started"));
    }

    [Fact]
    public void A_call_report_is_counted_by_candidate_types_failure_and_in_histograms()
    {
        using var hub = new HubHarness();
        var ana = hub.Joined("a", "Ana");

        ana.Send(new
        {
            type = "call-report", durationMs = 90_000, connected = true, localCandidateType = "relay", remoteCandidateType = "host",
            relayProtocol = "tcp", rttMs = 40.0, packetLoss = 0.02, iceRestarts = 2,
        });
        ana.Send(new { type = "call-report", durationMs = 12_000, connected = false, iceRestarts = 5, failure = "ice-failed" });
        ana.Send(new { type = "call-report", durationMs = 1, connected = false, iceRestarts = 0, failure = "cosmic-rays", localCandidateType = "mdns-ish" });

        Assert.Empty(ana.Transport.Take("error"));
        Assert.Equal(1, hub.Metrics.Sum("parley.call.reports", "local_candidate_type=relay", "remote_candidate_type=host", "relay_protocol=tcp"));
        Assert.Equal(1, hub.Metrics.Sum("parley.call.reports", "local_candidate_type=none", "remote_candidate_type=none", "relay_protocol=none"));
        Assert.Equal(1, hub.Metrics.Sum("parley.call.reports", "local_candidate_type=other"));
        Assert.Equal(1, hub.Metrics.Sum("parley.calls.failed", "reason=ice-failed"));
        Assert.Equal(1, hub.Metrics.Sum("parley.calls.failed", "reason=other"));
        Assert.Equal(7, hub.Metrics.Sum("parley.call.ice_restarts"));
        Assert.Equal([90, 12, 0.001], hub.Metrics.Values("parley.call.duration"));
        Assert.Equal([0.04], hub.Metrics.Values("parley.call.rtt"));
        Assert.Equal([0.02], hub.Metrics.Values("parley.call.packet_loss"));
        Assert.Equal(3, hub.Metrics.Sum("parley.signaling.messages", "type=call-report"));
    }

    [Theory]
    [InlineData("{\"type\":\"call-report\",\"durationMs\":-1,\"connected\":true,\"iceRestarts\":0}", "invalid-call-report")]
    [InlineData("{\"type\":\"call-report\",\"durationMs\":86400001,\"connected\":true,\"iceRestarts\":0}", "invalid-call-report")]
    [InlineData("{\"type\":\"call-report\",\"durationMs\":5,\"connected\":true,\"iceRestarts\":1001}", "invalid-call-report")]
    [InlineData("{\"type\":\"call-report\",\"durationMs\":5,\"connected\":true,\"iceRestarts\":0,\"rttMs\":60001}", "invalid-call-report")]
    [InlineData("{\"type\":\"call-report\",\"durationMs\":5,\"connected\":true,\"iceRestarts\":0,\"packetLoss\":1.5}", "invalid-call-report")]
    [InlineData("{\"type\":\"call-report\",\"durationMs\":5,\"connected\":true,\"iceRestarts\":0,\"failure\":\"Ana's cat\"}", "invalid-call-report")]
    [InlineData("{\"type\":\"call-report\",\"durationMs\":5,\"connected\":true,\"iceRestarts\":0,\"localCandidateType\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}", "invalid-call-report")]
    [InlineData("{\"type\":\"call-report\",\"durationMs\":5,\"connected\":true,\"iceRestarts\":0,\"pad\":\"PAD\"}", "invalid-call-report")]
    [InlineData("{\"type\":\"call-report\",\"durationMs\":\"long\",\"connected\":true,\"iceRestarts\":0}", "bad-message")]
    [InlineData("{\"type\":\"call-report\",\"connected\":true,\"iceRestarts\":0}", "bad-message")]
    public void A_bad_call_report_gets_its_error_and_is_not_counted(string json, string errorId)
    {
        using var hub = new HubHarness();
        var ana = hub.Joined("a", "Ana");

        ana.SendRaw(json.Replace("PAD", new string('x', 1024), StringComparison.Ordinal));

        var error = ana.Transport.One("error");
        Assert.Equal(errorId, error.GetProperty("id").GetString());
        Assert.Equal("call-report", error.GetProperty("ref").GetString());
        Assert.Empty(hub.Metrics.Values("parley.call.reports"));
        Assert.Empty(hub.Metrics.Values("parley.call.duration"));
        Assert.Equal(1, hub.Metrics.Sum("parley.signaling.errors", "error=" + errorId));
    }

    [Fact]
    public void A_call_report_needs_a_session()
    {
        using var hub = new HubHarness();
        var stranger = hub.Connect();

        stranger.Send(new { type = "call-report", durationMs = 5, connected = true, iceRestarts = 0 });

        Assert.Equal("hello-required", stranger.ErrorId());
        Assert.Empty(hub.Metrics.Values("parley.call.reports"));
    }

    private static void Offer(TestClient from, TestClient to) =>
        from.Send(new { type = "sdp", to = to.PeerId, description = new { type = "offer", sdp = "v=0" } });
}
