/**
 * A minimal CRI client (what kubelet is to containerd), for spec-tests/clients/cri.test.ts:
 * gRPC over containerd's unix socket with the calls of runtime-v1-subset.proto. Debian 12 has
 * no crictl, so the test speaks the protocol itself.
 */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import * as path from 'path';

/** Every call gets a deadline: a stuck containerd must fail the test, not hang it. */
const CALL_DEADLINE_MS = 60_000;

type Message = Record<string, any>;

export interface CriClient {
  runtime(method: string, request: Message, deadlineMs?: number): Promise<Message>;
  image(method: string, request: Message, deadlineMs?: number): Promise<Message>;
  close(): void;
}

export function connect(socket: string): CriClient {
  const definition = protoLoader.loadSync(path.join(__dirname, 'runtime-v1-subset.proto'), {
    keepCase: true, // field names as in the .proto (pod_sandbox_id), as containerd's logs print them
    longs: Number,
    enums: String, // 'CONTAINER_RUNNING' reads better in a failure message than 1
    defaults: true,
  });
  const v1 = (grpc.loadPackageDefinition(definition) as any).runtime.v1;
  const address = `unix://${socket}`;
  const runtimeService = new v1.RuntimeService(address, grpc.credentials.createInsecure());
  const imageService = new v1.ImageService(address, grpc.credentials.createInsecure());

  const call = (client: grpc.Client, service: string, method: string, request: Message, deadlineMs = CALL_DEADLINE_MS): Promise<Message> =>
    new Promise((resolve, reject) => {
      const fn = (client as any)[method];
      if (typeof fn !== 'function') {
        reject(new Error(`${service}.${method} is not in runtime-v1-subset.proto`));
        return;
      }
      fn.call(client, request, { deadline: Date.now() + deadlineMs }, (err: grpc.ServiceError | null, response: Message) => {
        if (err) reject(new Error(`CRI ${service}.${method}: ${err.details || err.message} (code ${grpc.status[err.code] ?? err.code})`));
        else resolve(response);
      });
    });

  return {
    runtime: (method, request, deadlineMs) => call(runtimeService, 'RuntimeService', method, request, deadlineMs),
    image: (method, request, deadlineMs) => call(imageService, 'ImageService', method, request, deadlineMs),
    close() {
      runtimeService.close();
      imageService.close();
    },
  };
}
