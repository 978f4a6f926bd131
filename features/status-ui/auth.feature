Feature: The status service is token-protected
  The early status UI on http://<node-ip>:8080 shows diagnostics only to holders of the token the
  bootstrapper printed; /healthz stays open for Kubernetes probes.

  @T014
  Scenario: Without a token the status API answers 401; with the token it answers the status JSON
    Given the status service serving a healthy appliance with token "s3cret-token"
    When a client requests "/api/status" without a token
    Then the response status is 401
    When a client requests "/api/status" with bearer token "wrong-token"
    Then the response status is 401
    When a client requests "/api/status" with bearer token "s3cret-token"
    Then the response status is 200
    And the response is canonical status JSON with rollup state "fully_healthy"

  @T014
  Scenario: Health checks need no token and reveal nothing
    Given the status service serving a healthy appliance with token "s3cret-token"
    When a client requests "/healthz" without a token
    Then the response status is 200
    And the response does not contain "rollup"

  @T014
  Scenario: After bootstrap the status service on the node address answers with the printed token
    Given the world "happy-path" after a fresh bootstrap with DNS servers "1.1.1.1,8.8.8.8"
    Then the bootstrap succeeded
    And the status service on "{node_ip}:8080" answers 401 without a token
    And the status service on "{node_ip}:8080" answers the status JSON with the printed token
