namespace Broker.Integration.Tests.Clients;

/// <summary>
/// The external-client tests run one at a time: each starts a broker plus a python or node
/// process, and on a 2-core CI machine running them in parallel turns client timeouts
/// (session, request) into flakiness rather than findings.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ExternalClientsCollection
{
    public const string Name = "External Kafka clients";
}
