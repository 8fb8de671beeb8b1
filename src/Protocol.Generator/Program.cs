using Broker.Protocol.Generator;

// Usage: dotnet run --project src/Protocol.Generator -- <specs dir> <output dir>
// e.g.   dotnet run --project src/Protocol.Generator -- specs/kafka-protocol src/Protocol/Messages
if (args.Length != 2)
{
    Console.Error.WriteLine("usage: Protocol.Generator <specs dir> <output dir>");
    return 2;
}
int count = MessageGenerator.WriteAll(args[0], args[1]);
Console.WriteLine($"generated {count} files into {args[1]}");
return 0;
