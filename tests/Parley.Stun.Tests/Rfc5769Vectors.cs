namespace Parley.Stun.Tests;

/// <summary>The test vectors of RFC 5769 §2 and RFC 8489 Appendix B.1, transcribed from the RFC text.</summary>
internal static class Rfc5769Vectors
{
    /// <summary>§2: the password of the short-term vectors 2.1-2.3.</summary>
    public const string ShortTermPassword = "VOkJxbRl1RmTxUk/WvJxBt";

    /// <summary>§2.4: "マトリックス" (U+30DE U+30C8 U+30EA U+30C3 U+30AF U+30B9), unaffected by SASLprep.</summary>
    public const string LongTermUsername = "\u30DE\u30C8\u30EA\u30C3\u30AF\u30B9";

    /// <summary>§2.4: "The&lt;U+00AD&gt;M&lt;U+00AA&gt;tr&lt;U+2168&gt;" before SASLprep (RFC 4013).</summary>
    public const string LongTermPasswordBeforeSaslPrep = "The\u00ADM\u00AAtr\u2168";

    /// <summary>§2.4: the same password after SASLprep, which is what the key is derived from.</summary>
    public const string LongTermPassword = "TheMatrIX";

    /// <summary>§2.4.</summary>
    public const string LongTermNonce = "f//499k954d6OL34oL9FSTvy64sA";

    /// <summary>§2.4 and B.1.</summary>
    public const string LongTermRealm = "example.org";

    /// <summary>B.1 (as corrected by erratum 6268).</summary>
    public const string Sha256Nonce = "obMatJos2AAACf//499k954d6OL34oL9FSTvy64sA";

    /// <summary>§2.1 Sample Request: SOFTWARE "STUN test client", PRIORITY, ICE-CONTROLLED, USERNAME "evtj:h6vY"
    /// (padded with spaces), MESSAGE-INTEGRITY, FINGERPRINT.</summary>
    public static readonly byte[] SampleRequest = Convert.FromHexString(
        "00010058" + "2112a442" + "b7e7a701" + "bc34d686" + "fa87dfae" +
        "80220010" + "5354554e" + "20746573" + "7420636c" + "69656e74" +
        "00240004" + "6e0001ff" +
        "80290008" + "932ff9b1" + "51263b36" +
        "00060009" + "6576746a" + "3a683676" + "59202020" +
        "00080014" + "9aeaa70c" + "bfd8cb56" + "781ef2b5" + "b2d3f249" + "c1b571a2" +
        "80280004" + "e57a3bcf");

    /// <summary>§2.2 Sample IPv4 Response: SOFTWARE "test vector", XOR-MAPPED-ADDRESS 192.0.2.1:32853.</summary>
    public static readonly byte[] SampleIPv4Response = Convert.FromHexString(
        "0101003c" + "2112a442" + "b7e7a701" + "bc34d686" + "fa87dfae" +
        "8022000b" + "74657374" + "20766563" + "746f7220" +
        "00200008" + "0001a147" + "e112a643" +
        "00080014" + "2b91f599" + "fd9e90c3" + "8c7489f9" + "2af9ba53" + "f06be7d7" +
        "80280004" + "c07d4c96");

    /// <summary>§2.3 Sample IPv6 Response: XOR-MAPPED-ADDRESS [2001:db8:1234:5678:11:2233:4455:6677]:32853.</summary>
    public static readonly byte[] SampleIPv6Response = Convert.FromHexString(
        "01010048" + "2112a442" + "b7e7a701" + "bc34d686" + "fa87dfae" +
        "8022000b" + "74657374" + "20766563" + "746f7220" +
        "00200014" + "0002a147" + "0113a9fa" + "a5d3f179" + "bc25f4b5" + "bed2b9d9" +
        "00080014" + "a382954e" + "4be67bf1" + "1784c97c" + "8292c275" + "bfe3ed41" +
        "80280004" + "c8fb0b4c");

    /// <summary>§2.4 Sample Request with Long-Term Authentication: USERNAME, NONCE, REALM, MESSAGE-INTEGRITY.</summary>
    public static readonly byte[] SampleLongTermRequest = Convert.FromHexString(
        "00010060" + "2112a442" + "78ad3433" + "c6ad72c0" + "29da412e" +
        "00060012" + "e3839ee3" + "8388e383" + "aae38383" + "e382afe3" + "82b90000" +
        "0015001c" + "662f2f34" + "39396b39" + "35346436" + "4f4c3334" + "6f4c3946" + "53547679" + "36347341" +
        "0014000b" + "6578616d" + "706c652e" + "6f726700" +
        "00080014" + "f6702465" + "6dd64a3e" + "02b8e071" + "2e85c9a2" + "8ca89666");

    /// <summary>RFC 8489 Appendix B.1 (with erratum 6268): USERHASH, NONCE, REALM, PASSWORD-ALGORITHM SHA-256,
    /// MESSAGE-INTEGRITY-SHA256.</summary>
    public static readonly byte[] SampleSha256Request = Convert.FromHexString(
        "00010090" + "2112a442" + "78ad3433" + "c6ad72c0" + "29da412e" +
        "001e0020" + "4a3cf38f" + "ef6992bd" + "a952c678" + "0417da0f" + "24819415" + "569e60b2" + "05c46e41" + "407f1704" +
        "00150029" + "6f624d61" + "744a6f73" + "32414141" + "43662f2f" + "3439396b" + "39353464" + "364f4c33" +
        "346f4c39" + "46535476" + "79363473" + "41000000" +
        "0014000b" + "6578616d" + "706c652e" + "6f726700" +
        "001d0004" + "00020000" +
        "001c0020" + "b5c7bf00" + "5b6c52a2" + "1c51c5e8" + "92f81924" + "136296cb" + "927c4314" + "9309278c" + "c6518e65");

    /// <summary>Every vector, for the mutation corpus.</summary>
    public static IEnumerable<(string Name, byte[] Bytes)> All =>
    [
        ("rfc5769-2.1", SampleRequest),
        ("rfc5769-2.2", SampleIPv4Response),
        ("rfc5769-2.3", SampleIPv6Response),
        ("rfc5769-2.4", SampleLongTermRequest),
        ("rfc8489-b.1", SampleSha256Request),
    ];
}
