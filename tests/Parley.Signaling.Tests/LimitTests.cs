namespace Parley.Signaling.Tests;

public sealed class LimitTests
{
    [Theory]
    [InlineData("not json", "bad-json")]
    [InlineData("[1,2]", "bad-json")]
    [InlineData("{\"type\":\"teleport\"}", "unknown-type")]
    [InlineData("{\"no\":\"type\"}", "bad-message")]
    [InlineData("{\"type\":7}", "bad-message")]
    [InlineData("{\"type\":\"join\",\"room\":\"r\"}", "bad-message")]
    [InlineData("{\"type\":\"join\",\"room\":5,\"name\":\"a\"}", "bad-message")]
    [InlineData("{\"type\":\"join\",\"room\":null,\"name\":\"a\"}", "bad-message")]
    [InlineData("{\"type\":\"media\",\"audio\":\"yes\",\"video\":true}", "bad-message")]
    [InlineData("{\"type\":\"ping\",\"rid\":7}", "bad-message")]
    public void Malformed_messages_get_their_error_and_the_connection_stays_usable(string text, string errorId)
    {
        using var harness = new HubHarness();
        var client = harness.Connect();
        client.Hello();

        client.SendRaw(text);

        Assert.Equal(errorId, client.ErrorId());
        Assert.Null(client.Transport.ClosedWith);
        client.Send(new { type = "ping" });
        Assert.Single(client.Transport.Take("pong"));
    }

    [Fact]
    public void Errors_echo_the_request_id_and_name_the_message_type()
    {
        using var harness = new HubHarness();
        var client = harness.Connect();
        client.Hello();

        client.Send(new { type = "join", room = "r r", name = "a", rid = "42" });

        var error = client.Transport.One("error");
        Assert.Equal("42", error.GetProperty("rid").GetString());
        Assert.Equal("join", error.GetProperty("ref").GetString());
        Assert.False(string.IsNullOrWhiteSpace(error.GetProperty("message").GetString()));
    }

    [Fact]
    public void Deeply_nested_json_is_refused_without_harm()
    {
        using var harness = new HubHarness();
        var client = harness.Connect();
        client.Hello();

        client.SendRaw("{\"type\":\"ping\",\"x\":" + new string('[', 5000) + new string(']', 5000) + "}");

        Assert.Equal("bad-json", client.ErrorId());
    }

    [Fact]
    public void Messages_before_hello_a_second_hello_and_a_wrong_protocol_are_refused()
    {
        using var harness = new HubHarness();
        var early = harness.Connect();
        early.Send(new { type = "join", room = "r", name = "a" });
        Assert.Equal("hello-required", early.ErrorId());
        early.Hello();
        early.Send(new { type = "hello", protocol = 1 });
        Assert.Equal("already-welcomed", early.ErrorId());

        var future = harness.Connect();
        future.Send(new { type = "hello", protocol = 2 });
        Assert.Equal("unsupported-protocol", future.ErrorId());
        Assert.Equal(CloseCodes.ProtocolError, future.Transport.ClosedWith);
    }

    [Fact]
    public void Oversized_and_binary_messages_are_refused_with_their_error()
    {
        using var harness = new HubHarness();
        var client = harness.Connect();
        client.Hello();

        client.Connection.ReceiveOversized();
        Assert.Equal("message-too-large", client.ErrorId());
        client.Connection.ReceiveBinary();
        Assert.Equal("binary-not-supported", client.ErrorId());
    }

    [Fact]
    public void A_flood_is_cut_to_the_rate_with_one_error_per_second_and_others_are_unaffected()
    {
        using var harness = new HubHarness(o => o.MessagesPerSecond = 10);
        var flooder = harness.Joined("r", "flood");
        var bystander = harness.Joined("r", "calm");
        flooder.Transport.Drain();
        var burst = 20 - 2; // hello and join spent two of the burst of 2 x 10

        for (var i = 0; i < 1000; i++)
            flooder.Send(new { type = "ping" });

        Assert.Equal(burst, flooder.Transport.Take("pong").Count);
        Assert.Equal("rate-limited", flooder.ErrorId());
        harness.Time.Advance(TimeSpan.FromSeconds(1));
        flooder.Send(new { type = "ping" });
        Assert.Single(flooder.Transport.Take("pong"));
        bystander.Send(new { type = "ping" });
        Assert.Single(bystander.Transport.Take("pong"));
    }

    [Fact]
    public void A_client_that_cannot_keep_up_is_dropped_into_its_grace_period()
    {
        using var harness = new HubHarness();
        var slow = harness.Joined("r", "slow");
        var ana = harness.Joined("r", "Ana");
        slow.Transport.Full = true;

        ana.Send(new { type = "media", audio = false, video = false });

        Assert.Equal(CloseCodes.PolicyViolation, slow.Transport.ClosedWith);
        Assert.Single(ana.Transport.Take("peer-away"));
        Assert.Equal(2, harness.Hub.Counts().Sessions);
    }

    [Fact]
    public void A_full_server_refuses_new_sockets_with_server_full()
    {
        using var harness = new HubHarness(o => o.MaxSessions = 2);
        harness.Connect();
        harness.Connect();
        var transport = new Parley.TestCommon.InMemoryTransport("third");

        Assert.Null(harness.Hub.Connect(transport));

        Assert.Equal("server-full", transport.One("error").GetProperty("id").GetString());
        Assert.Equal(CloseCodes.TryAgainLater, transport.ClosedWith);
    }
}
