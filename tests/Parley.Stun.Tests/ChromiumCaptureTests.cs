using System.Text;

namespace Parley.Stun.Tests;

/// <summary>Real datagrams from headless Chromium 156 (TestData/README.md says how they were captured).</summary>
public class ChromiumCaptureTests
{
    private static readonly byte[] s_longTermKey =
        StunIntegrity.DeriveLongTermKey(StunPasswordAlgorithm.Md5, Corpus.Username, Corpus.Realm, Corpus.Password);

    public static TheoryData<string> StunPackets => Corpus.ChromiumNames("-request");

    public static TheoryData<string> Authenticated => Corpus.ChromiumNames("-auth");

    public static TheoryData<string> SendIndications => Corpus.ChromiumNames("send-indication");

    public static TheoryData<string> ChannelDataPackets => Corpus.ChromiumNames("channeldata");

    [Fact]
    public void TheCorpusHasEveryKindOfPacket()
    {
        string[] kinds = ["binding-request", "allocate-request", "allocate-request-auth", "createpermission-request-auth",
            "channelbind-request-auth", "send-indication", "channeldata"];
        foreach (string kind in kinds)
        {
            Assert.Contains(Corpus.Chromium, c => c.Name.EndsWith($"-{kind}.bin", StringComparison.Ordinal));
        }
    }

    [Theory]
    [MemberData(nameof(StunPackets))]
    [MemberData(nameof(SendIndications))]
    public void EveryStunPacketParsesWholly(string name)
    {
        byte[] bytes = Corpus.Get(name);
        Assert.Equal(PacketKind.Stun, PacketClassifier.Classify(bytes));
        Assert.Equal(ReadResult.Complete(bytes.Length), StunMessage.TryRead(bytes, out StunMessage message));
        Assert.Equal(0, message.GetUnknownComprehensionRequired(new StunAttributeType[8]));
        // Chromium puts no FINGERPRINT on requests to a STUN/TURN server (it does on ICE checks, below).
        Assert.False(message.HasFingerprint);
    }

    [Fact]
    public void BindingRequestIsABareHeader()
    {
        byte[] bytes = Corpus.Get("001-binding-request.bin");
        Assert.True(StunMessage.TryRead(bytes, out StunMessage message).IsComplete);
        Assert.Equal(StunMessageType.BindingRequest, message.Type);
        Assert.Equal(StunHeader.Length, bytes.Length);
    }

    [Fact]
    public void FirstAllocateAsksForUdpWithoutCredentials()
    {
        Assert.True(StunMessage.TryRead(Corpus.Get("005-allocate-request.bin"), out StunMessage message).IsComplete);
        Assert.Equal(StunMessageType.AllocateRequest, message.Type);
        Assert.True(message.TryGetRequestedTransport(out byte protocol));
        Assert.Equal(17, protocol);
        Assert.False(message.HasMessageIntegrity);
        Assert.False(message.HasAttribute(StunAttributeType.Username));
    }

    [Theory]
    [MemberData(nameof(Authenticated))]
    public void AuthenticatedRequestsVerifyWithTheLongTermKey(string name)
    {
        Assert.True(StunMessage.TryRead(Corpus.Get(name), out StunMessage message).IsComplete);
        Assert.True(message.TryGetUsername(out ReadOnlySpan<byte> username));
        Assert.Equal(Corpus.Username, Encoding.UTF8.GetString(username));
        Assert.True(message.TryGetRealm(out ReadOnlySpan<byte> realm));
        Assert.Equal(Corpus.Realm, Encoding.UTF8.GetString(realm));
        Assert.True(message.TryGetNonce(out ReadOnlySpan<byte> nonce));
        Assert.Equal(Corpus.Nonce, Encoding.UTF8.GetString(nonce));

        Assert.True(message.VerifyMessageIntegrity(s_longTermKey));
        byte[] wrong = StunIntegrity.DeriveLongTermKey(StunPasswordAlgorithm.Md5, Corpus.Username, Corpus.Realm, "y");
        Assert.False(message.VerifyMessageIntegrity(wrong));
    }

    [Fact]
    public void CreatePermissionAndChannelBindCarryTheirAttributes()
    {
        Assert.True(StunMessage.TryRead(Corpus.Get("009-createpermission-request-auth.bin"), out StunMessage permission).IsComplete);
        Assert.Equal(StunMessageType.CreatePermissionRequest, permission.Type);
        Assert.True(permission.TryGetXorAddress(StunAttributeType.XorPeerAddress, out TransportAddress peer));
        Assert.Equal("127.0.0.1", peer.ToIPEndPoint().Address.ToString());
        Assert.InRange(peer.Port, 50000, 50001); // the relayed ports the capture's listener handed out

        Assert.True(StunMessage.TryRead(Corpus.Get("015-channelbind-request-auth.bin"), out StunMessage bind).IsComplete);
        Assert.Equal(StunMessageType.ChannelBindRequest, bind.Type);
        Assert.True(bind.TryGetChannelNumber(out ushort channel));
        Assert.True(ChannelData.IsValidChannelNumber(channel));
        Assert.True(bind.TryGetXorAddress(StunAttributeType.XorPeerAddress, out TransportAddress bound));
        Assert.Equal(peer.Family, bound.Family);
    }

    [Theory]
    [MemberData(nameof(SendIndications))]
    public void SendIndicationsCarryPeerAndData(string name)
    {
        Assert.True(StunMessage.TryRead(Corpus.Get(name), out StunMessage message).IsComplete);
        Assert.Equal(StunMessageType.SendIndication, message.Type);
        Assert.True(message.TryGetXorAddress(StunAttributeType.XorPeerAddress, out TransportAddress peer));
        Assert.Equal(StunAddressFamily.IPv4, peer.Family);
        Assert.True(message.TryGetData(out ReadOnlySpan<byte> data));
        Assert.NotEmpty(data.ToArray());
        Assert.False(message.HasMessageIntegrity); // indications are not authenticated (RFC 8656 §11.1)
    }

    [Theory]
    [MemberData(nameof(SendIndications))]
    [MemberData(nameof(ChannelDataPackets))]
    public void IceChecksInsideTheRelayedDataVerify(string name)
    {
        byte[] bytes = Corpus.Get(name);
        ReadOnlySpan<byte> payload;
        if (PacketClassifier.Classify(bytes) == PacketKind.ChannelData)
        {
            Assert.True(ChannelData.TryRead(bytes, out ChannelData channelData).IsComplete);
            payload = channelData.Data;
        }
        else
        {
            Assert.True(StunMessage.TryRead(bytes, out StunMessage send).IsComplete);
            Assert.True(send.TryGetData(out payload));
        }

        if (!StunHeader.IsStun(payload))
        {
            return; // DTLS, SRTP or SRTCP: not ours to read
        }

        // A connectivity check (RFC 8445 §7.2.2): FINGERPRINT, and MESSAGE-INTEGRITY with the responder's ICE password.
        Assert.True(StunMessage.TryRead(payload, out StunMessage check).IsComplete);
        Assert.True(check.VerifyFingerprint());
        if (check.Class == StunClass.Request)
        {
            Assert.True(check.TryGetUsername(out ReadOnlySpan<byte> username));
            string responder = Encoding.UTF8.GetString(username).Split(':')[0];
            Assert.True(check.VerifyMessageIntegrity(Corpus.Utf8(Corpus.IcePasswords[responder])));
            Assert.True(check.HasAttribute(StunAttributeType.Priority));
        }
        else
        {
            Assert.Equal(StunClass.SuccessResponse, check.Class);
            Assert.True(check.TryGetXorAddress(StunAttributeType.XorMappedAddress, out _));
            Assert.True(check.HasMessageIntegrity);
            int verified = 0;
            foreach (string password in Corpus.IcePasswords.Values)
            {
                verified += check.VerifyMessageIntegrity(Corpus.Utf8(password)) ? 1 : 0;
            }

            Assert.Equal(1, verified); // a response is protected with the same password as its request
        }
    }

    [Theory]
    [MemberData(nameof(ChannelDataPackets))]
    public void ChannelDataOverUdpIsUnpadded(string name)
    {
        byte[] bytes = Corpus.Get(name);
        Assert.Equal(PacketKind.ChannelData, PacketClassifier.Classify(bytes));
        Assert.Equal(ReadResult.Complete(bytes.Length), ChannelData.TryRead(bytes, out ChannelData channelData));
        Assert.Equal(0x4000, channelData.ChannelNumber);
        Assert.Equal(bytes.Length - 4, channelData.Data.Length); // RFC 8656 §12.5: Chromium omits UDP padding

        // Re-framed for a stream, the same data gets padded and frames back to the same payload.
        var stream = new byte[bytes.Length + 8];
        Assert.True(ChannelData.TryWrite(stream, channelData.ChannelNumber, channelData.Data, padToFourBytes: true, out int written));
        Assert.Equal(0, written % 4);
        Assert.Equal(ReadResult.Complete(written), StreamFramer.TryGetFrame(stream.AsSpan(0, written), out PacketKind kind));
        Assert.Equal(PacketKind.ChannelData, kind);
    }
}
