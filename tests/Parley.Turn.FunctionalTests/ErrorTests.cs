using Parley.Stun;
using Parley.Turn.Tests;

namespace Parley.Turn.FunctionalTests;

/// <summary>The error responses over a real UDP socket: 401, 438, 403, 486, 437.</summary>
public sealed class ErrorTests
{
    [Fact]
    public async Task Wrong_password_is_401()
    {
        await using TurnHost host = await TurnHost.StartAsync();
        await using TurnTestClient client = await TurnTestClient.Udp(host.Endpoints.Udp[0]);
        client.Credentials = TurnHost.Credentials() with { Password = "wrong" };

        TurnResponse response = await client.AllocateAsync();

        Assert.Equal(401, response.ErrorCode);
        Assert.Equal(TurnHost.Realm, response.Realm);
    }

    [Fact]
    public async Task A_stale_nonce_is_438()
    {
        await using TurnHost host = await TurnHost.StartAsync(new() { ["Turn:NonceLifetime"] = "00:00:01" });
        await using TurnTestClient client = await TurnTestClient.Udp(host.Endpoints.Udp[0]);
        client.Credentials = TurnHost.Credentials();
        Assert.Equal(StunClass.SuccessResponse, (await client.AllocateAsync()).Class);

        // Bounded polling: within a few seconds the nonce goes stale.
        TurnResponse? response = null;
        DateTime deadline = DateTime.UtcNow.AddSeconds(10);
        while (response?.ErrorCode != 438 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
            response = await client.ExchangeAsync(TurnMessages.Refresh(client.Credentials, 600));
        }

        Assert.Equal(438, response?.ErrorCode);
        Assert.NotNull(response!.Nonce);
    }

    [Theory]
    [InlineData("10.0.0.1")]
    [InlineData("192.168.1.1")]
    [InlineData("127.0.0.2")]
    public async Task A_refused_peer_is_403(string ip)
    {
        await using TurnHost host = await TurnHost.StartAsync();
        await using TurnTestClient client = await TurnTestClient.Udp(host.Endpoints.Udp[0]);
        client.Credentials = TurnHost.Credentials();
        await client.AllocateAsync();
        TransportAddress peer = TurnMessages.Address(ip, 5000);

        Assert.Equal(403, (await client.RequestAsync(c => TurnMessages.CreatePermission(c, peer))).ErrorCode);
        Assert.Equal(403, (await client.RequestAsync(c => TurnMessages.ChannelBind(c, 0x4000, peer))).ErrorCode);
    }

    [Fact]
    public async Task The_allocation_quota_is_486()
    {
        await using TurnHost host = await TurnHost.StartAsync(new() { ["Turn:MaxAllocationsPerUser"] = "1" });
        await using TurnTestClient first = await TurnTestClient.Udp(host.Endpoints.Udp[0]);
        await using TurnTestClient second = await TurnTestClient.Udp(host.Endpoints.Udp[0]);
        first.Credentials = TurnHost.Credentials();
        second.Credentials = TurnHost.Credentials();

        Assert.Equal(StunClass.SuccessResponse, (await first.AllocateAsync()).Class);
        Assert.Equal(486, (await second.AllocateAsync()).ErrorCode);
    }

    [Fact]
    public async Task Mismatched_5_tuples_are_437()
    {
        await using TurnHost host = await TurnHost.StartAsync();
        await using TurnTestClient client = await TurnTestClient.Udp(host.Endpoints.Udp[0]);
        await using TurnTestClient other = await TurnTestClient.Udp(host.Endpoints.Udp[0]);
        client.Credentials = TurnHost.Credentials();
        other.Credentials = TurnHost.Credentials();
        await client.AllocateAsync();

        // Another Allocate (new transaction) on the same 5-tuple, and a Refresh from a 5-tuple without an allocation.
        Assert.Equal(437, (await client.RequestAsync(c => TurnMessages.Allocate(c))).ErrorCode);
        Assert.Equal(437, (await other.RequestAsync(c => TurnMessages.Refresh(c, 600))).ErrorCode);
    }
}
