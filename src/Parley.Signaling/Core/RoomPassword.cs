using System.Security.Cryptography;
using System.Text;

namespace Parley.Signaling;

/// <summary>A room password kept only as a salted PBKDF2-SHA256 hash.</summary>
public sealed record RoomPassword(byte[] Salt, byte[] Hash)
{
    // Room passwords live as long as a call; this cost keeps a stolen hash expensive to brute-force
    // while a join stays in the low milliseconds.
    private const int Iterations = 20_000;
    private const int HashBytes = 32;

    public static RoomPassword Create(string password)
    {
        var salt = RandomNumberGenerator.GetBytes(16);
        return new RoomPassword(salt, Derive(password, salt));
    }

    public bool Matches(string? password) =>
        CryptographicOperations.FixedTimeEquals(Derive(password ?? "", Salt), Hash);

    private static byte[] Derive(string password, byte[] salt) =>
        Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, Iterations, HashAlgorithmName.SHA256, HashBytes);
}
