using Parley.Stun;
using Parley.Turn.Tests;

namespace Parley.Turn.FunctionalTests;

/// <summary>
/// RFC 8489 §9.2 password algorithms over real loopback sockets: a client that takes up the SHA-256 offer allocates,
/// installs a permission and relays both ways, every response protected by MESSAGE-INTEGRITY-SHA256.
/// </summary>
public sealed class PasswordAlgorithmTests
{
    [Theory]
    [InlineData(RelayTests.Transport.Udp)]
    [InlineData(RelayTests.Transport.Tcp)]
    public async Task Sha256_allocate_permission_send_then_data_back(RelayTests.Transport transport)
    {
        await using TurnHost host = await TurnHost.StartAsync();
        await using TurnTestClient client = transport == RelayTests.Transport.Udp
            ? await TurnTestClient.Udp(host.Endpoints.Udp[0])
            : await TurnTestClient.Tcp(host.Endpoints.Tcp[0]);
        using var peer = new PeerSocket();
        client.Credentials = TurnHost.Credentials() with { PreferSha256 = true };
        byte[] key = client.Credentials.KeyFor(StunPasswordAlgorithm.Sha256);

        TurnResponse allocate = await client.AllocateAsync();
        Assert.Equal(StunClass.SuccessResponse, allocate.Class);
        Assert.Equal(StunPasswordAlgorithm.Sha256, client.Credentials.PasswordAlgorithm);
        Assert.StartsWith("obMatJos2AAAB", System.Text.Encoding.ASCII.GetString(client.Credentials.Nonce), StringComparison.Ordinal);
        Assert.True(allocate.VerifiesSha256With(key));
        Assert.False(allocate.HasIntegrity);
        TransportAddress relayed = Assert.Single(allocate.Relayed);

        TurnResponse permission = await client.RequestAsync(c => TurnMessages.CreatePermission(c, peer.Address));
        Assert.Equal(StunClass.SuccessResponse, permission.Class);
        Assert.True(permission.VerifiesSha256With(key));

        await client.AssertSendAndDataIndicationAsync(peer, relayed);

        TurnResponse delete = await client.RequestAsync(c => TurnMessages.Refresh(c, 0));
        Assert.True(delete.VerifiesSha256With(key));
    }
}
