using System.Text;

namespace Parley.Stun.Tests;

/// <summary>The committed real-bytes corpus: RFC vectors and the Chromium captures in TestData/chromium.</summary>
internal static class Corpus
{
    public static readonly string ChromiumDirectory = Path.Combine(AppContext.BaseDirectory, "TestData", "chromium");

    /// <summary>TURN REST credentials the capture used (see TestData/README.md).</summary>
    public const string Username = "1700000000:alice";
    public const string Realm = "parley.test";
    public const string Password = "x";
    public const string Nonce = "0123456789abcdef";

    public static IReadOnlyList<(string Name, byte[] Bytes)> Chromium { get; } = Directory
        .GetFiles(ChromiumDirectory, "*.bin")
        .Order(StringComparer.Ordinal)
        .Select(path => (Path.GetFileName(path), File.ReadAllBytes(path)))
        .ToArray();

    /// <summary>ICE ufrag → pwd of the two captured peer connections (short-term credentials, RFC 8445 §7.2.2).</summary>
    public static IReadOnlyDictionary<string, string> IcePasswords { get; } = File
        .ReadAllLines(Path.Combine(ChromiumDirectory, "ice-credentials.txt"))
        .Where(line => line.Length > 0)
        .Select(line => line.Split(' '))
        .ToDictionary(parts => parts[1], parts => parts[2]);

    public static IEnumerable<(string Name, byte[] Bytes)> All => Rfc5769Vectors.All.Concat(Chromium);

    public static TheoryData<string> ChromiumNames(string contains)
    {
        var data = new TheoryData<string>();
        foreach ((string name, _) in Chromium.Where(c => c.Name.Contains(contains, StringComparison.Ordinal)))
        {
            data.Add(name);
        }

        return data;
    }

    public static byte[] Get(string name) => Chromium.Single(c => c.Name == name).Bytes;

    public static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);
}
