namespace Parley.Signaling.Tests;

public sealed class RoomTests
{
    [Fact]
    public void Hello_gives_an_unguessable_peer_id_a_resume_token_and_the_configured_ice_servers()
    {
        using var harness = new HubHarness(o => o.IceServers.Add(new IceServerOptions { Urls = ["stun:stun.example.org:3478"] }));
        var a = harness.Connect();
        var b = harness.Connect();

        var welcome = a.Hello();
        b.Hello();

        Assert.Equal(22, a.PeerId.Length);
        Assert.NotEqual(a.PeerId, b.PeerId);
        Assert.False(welcome.GetProperty("resumed").GetBoolean());
        Assert.False(string.IsNullOrEmpty(a.Token));
        Assert.Equal("stun:stun.example.org:3478", welcome.GetProperty("iceServers")[0].GetProperty("urls")[0].GetString());
        Assert.Equal(20_000, welcome.GetProperty("heartbeatIntervalMs").GetInt32());
        Assert.Equal(45_000, welcome.GetProperty("heartbeatTimeoutMs").GetInt32());
        Assert.Equal(30_000, welcome.GetProperty("resumeGraceMs").GetInt32());
        Assert.Equal(65_536, welcome.GetProperty("limits").GetProperty("maxMessageBytes").GetInt32());
    }

    [Fact]
    public void A_joiner_gets_the_member_list_and_the_members_get_peer_joined_with_opposite_politeness()
    {
        using var harness = new HubHarness();
        var ana = harness.Joined("family", "Ana");
        var bo = harness.Connect();
        bo.Hello();

        bo.Send(new { type = "join", room = "family", name = "  Bo  ", rid = "7" });

        var joined = bo.Transport.One("joined");
        Assert.Equal("7", joined.GetProperty("rid").GetString());
        Assert.Equal(4, joined.GetProperty("capacity").GetInt32());
        var member = Assert.Single(joined.GetProperty("members").EnumerateArray());
        Assert.Equal(ana.PeerId, member.GetProperty("peerId").GetString());
        Assert.Equal("Ana", member.GetProperty("name").GetString());
        Assert.True(member.GetProperty("polite").GetBoolean()); // the later joiner yields

        var peerJoined = ana.Transport.One("peer-joined").GetProperty("member");
        Assert.Equal(bo.PeerId, peerJoined.GetProperty("peerId").GetString());
        Assert.Equal("Bo", peerJoined.GetProperty("name").GetString());
        Assert.False(peerJoined.GetProperty("polite").GetBoolean());
    }

    [Fact]
    public void The_next_joiner_of_a_full_room_gets_room_full_and_nobody_inside_hears_of_it()
    {
        using var harness = new HubHarness(o => o.RoomCapacity = 4);
        var inside = Enumerable.Range(0, 4).Select(i => harness.Joined("r", "p" + i)).ToList();
        inside.ForEach(c => c.Transport.Drain());
        var fifth = harness.Connect();
        fifth.Hello();

        fifth.Send(new { type = "join", room = "r", name = "late" });

        Assert.Equal("room-full", fifth.ErrorId());
        Assert.All(inside, c => Assert.Empty(c.Transport.Drain()));
    }

    [Fact]
    public void Per_room_capacity_overrides_the_default()
    {
        using var harness = new HubHarness(o => o.RoomCapacities["duo"] = 2);
        harness.Joined("duo", "a");
        harness.Joined("duo", "b");
        var third = harness.Connect();
        third.Hello();

        third.Send(new { type = "join", room = "duo", name = "c" });

        Assert.Equal("room-full", third.ErrorId());
    }

    [Fact]
    public void The_first_joiner_sets_the_password_and_later_joiners_must_match_it()
    {
        using var harness = new HubHarness();
        harness.Joined("clinic", "doctor", "s3cret");
        var wrong = harness.Connect();
        wrong.Hello();
        var none = harness.Connect();
        none.Hello();

        wrong.Send(new { type = "join", room = "clinic", name = "x", password = "guess" });
        none.Send(new { type = "join", room = "clinic", name = "y" });
        var right = harness.Joined("clinic", "patient", "s3cret");

        Assert.Equal("wrong-password", wrong.ErrorId());
        Assert.Equal("wrong-password", none.ErrorId());
        Assert.NotNull(right);
    }

    [Fact]
    public void Room_passwords_are_kept_only_as_salted_hashes()
    {
        var first = RoomPassword.Create("s3cret");
        var second = RoomPassword.Create("s3cret");

        Assert.NotEqual(first.Salt, second.Salt);
        Assert.NotEqual(first.Hash, second.Hash);
        Assert.DoesNotContain("s3cret", System.Text.Encoding.UTF8.GetString(first.Hash), StringComparison.Ordinal);
        Assert.True(first.Matches("s3cret"));
        Assert.False(first.Matches("S3cret"));
        Assert.False(first.Matches(null));
    }

    [Fact]
    public void Leave_tells_the_others_and_an_empty_room_disappears()
    {
        using var harness = new HubHarness();
        var ana = harness.Joined("r", "Ana");
        var bo = harness.Joined("r", "Bo");
        ana.Transport.Drain();

        bo.Send(new { type = "leave", rid = "9" });
        ana.Send(new { type = "leave" });

        Assert.Equal("9", bo.Transport.One("left").GetProperty("rid").GetString());
        var peerLeft = ana.Transport.One("peer-left");
        Assert.Equal(bo.PeerId, peerLeft.GetProperty("peerId").GetString());
        Assert.Equal("left", peerLeft.GetProperty("reason").GetString());
        Assert.Equal(0, harness.Hub.Counts().Rooms);
    }

    [Fact]
    public void Join_twice_or_leave_outside_a_room_is_an_error()
    {
        using var harness = new HubHarness();
        var ana = harness.Joined("r", "Ana");
        var loner = harness.Connect();
        loner.Hello();

        ana.Send(new { type = "join", room = "other", name = "Ana" });
        loner.Send(new { type = "leave" });

        Assert.Equal("already-in-room", ana.ErrorId());
        Assert.Equal("not-in-room", loner.ErrorId());
    }

    [Fact]
    public void Media_state_reaches_the_room_and_late_joiners()
    {
        using var harness = new HubHarness();
        var ana = harness.Joined("r", "Ana");
        var bo = harness.Joined("r", "Bo");

        ana.Send(new { type = "media", audio = false, video = true });
        var carl = harness.Connect();
        carl.Hello();
        carl.Send(new { type = "join", room = "r", name = "Carl" });

        var media = bo.Transport.One("peer-media");
        Assert.Equal(ana.PeerId, media.GetProperty("peerId").GetString());
        Assert.False(media.GetProperty("audio").GetBoolean());
        var anaSeenByCarl = carl.Transport.One("joined").GetProperty("members").EnumerateArray()
            .Single(m => m.GetProperty("peerId").GetString() == ana.PeerId);
        Assert.False(anaSeenByCarl.GetProperty("audio").GetBoolean());
        Assert.True(anaSeenByCarl.GetProperty("video").GetBoolean());
    }

    [Theory]
    [InlineData("", false)]
    [InlineData("family", true)]
    [InlineData("家庭-聚会_2026.v2", true)]
    [InlineData("a b", false)]
    [InlineData(".hidden", false)]
    [InlineData("a/b", false)]
    [InlineData("%2e%2e", false)]
    public void Room_names(string room, bool valid) => Assert.Equal(valid, NameRules.IsValidRoom(room));

    [Fact]
    public void Room_names_longer_than_64_are_refused() =>
        Assert.False(NameRules.IsValidRoom(new string('a', 65)));

    [Theory]
    [InlineData("Ana", true)]
    [InlineData("  王小明  ", true)]
    [InlineData("   ", false)]
    [InlineData("a\u0000b", false)]
    [InlineData("evil\u202Etxt", false)]
    [InlineData("line\nbreak", false)]
    public void Display_names(string name, bool valid) => Assert.Equal(valid, NameRules.TryNormalizeName(name, out _));

    [Fact]
    public void Invalid_names_rooms_and_passwords_are_refused_with_their_error()
    {
        using var harness = new HubHarness();
        var client = harness.Connect();
        client.Hello();

        client.Send(new { type = "join", room = "r", name = new string('x', 65) });
        Assert.Equal("invalid-name", client.ErrorId());
        client.Send(new { type = "join", room = "r r", name = "ok" });
        Assert.Equal("invalid-room", client.ErrorId());
        client.Send(new { type = "join", room = "r", name = "ok", password = new string('p', 129) });
        Assert.Equal("invalid-password", client.ErrorId());
    }
}
