// CosmJS against a running nodeop chain, as any Cosmos wallet would use it: a
// DirectSecp256k1HdWallet from a mnemonic, SigningStargateClient.connectWithSigner, "auto" fees
// (Simulate), signAndBroadcast of a cosmos.bank MsgSend and of a nodeop MsgPostTask, then
// getBalance and getAccount. Nothing here is nodeop-specific except the registry of message
// types, which is read from the .proto files in proto/.
//
// Environment: NODEOP_RPC (CometBFT RPC URL), NODEOP_MNEMONIC (the sender's mnemonic),
// NODEOP_RECIPIENT (bech32 address), NODEOP_TASK_FEE (unop escrowed by the task),
// NODEOP_PROTO_DIR (default: ../../proto). Prints one JSON line with what it saw.

import { readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

import protobuf from "protobufjs";
import { DirectSecp256k1HdWallet, Registry } from "@cosmjs/proto-signing";
import {
  assertIsDeliverTxSuccess,
  defaultRegistryTypes,
  GasPrice,
  SigningStargateClient,
} from "@cosmjs/stargate";

const here = path.dirname(fileURLToPath(import.meta.url));
const env = (name, fallback) => {
  const v = process.env[name] ?? fallback;
  if (v === undefined) throw new Error(`${name} is not set`);
  return v;
};

/** Every `Msg…` of proto/nodeop/<module>/v1/*.proto as [typeUrl, protobufjs Type]. */
function nodeopTypes(protoDir) {
  const root = new protobuf.Root();
  for (const module of readdirSync(path.join(protoDir, "nodeop")).sort()) {
    const dir = path.join(protoDir, "nodeop", module, "v1");
    for (const file of readdirSync(dir).filter((f) => f.endsWith(".proto")).sort()) {
      root.loadSync(path.join(dir, file));
    }
  }
  root.resolveAll();
  const types = [];
  const visit = (ns) => {
    for (const child of ns.nestedArray) {
      if (child instanceof protobuf.Type && child.name.startsWith("Msg")) {
        types.push([child.fullName.replace(/^\./, "/"), child]);
      } else if (child.nestedArray) {
        visit(child);
      }
    }
  };
  visit(root);
  return types;
}

async function main() {
  const rpc = env("NODEOP_RPC");
  const recipient = env("NODEOP_RECIPIENT");
  const taskFee = env("NODEOP_TASK_FEE");
  const protoDir = env("NODEOP_PROTO_DIR", path.join(here, "..", "..", "proto"));

  const wallet = await DirectSecp256k1HdWallet.fromMnemonic(env("NODEOP_MNEMONIC"), {
    prefix: "nodeop",
  });
  const [{ address: sender }] = await wallet.getAccounts();
  const types = nodeopTypes(protoDir);
  const registry = new Registry([...defaultRegistryTypes, ...types]);
  const client = await SigningStargateClient.connectWithSigner(rpc, wallet, {
    registry,
    gasPrice: GasPrice.fromString("1unop"),
  });

  const send = await client.signAndBroadcast(
    sender,
    [
      {
        typeUrl: "/cosmos.bank.v1beta1.MsgSend",
        value: {
          fromAddress: sender,
          toAddress: recipient,
          amount: [{ denom: "unop", amount: "1234567" }],
        },
      },
    ],
    "auto",
    "sent with CosmJS",
  );
  assertIsDeliverTxSuccess(send);

  const post = await client.signAndBroadcast(
    sender,
    [
      {
        typeUrl: "/nodeop.tasks.v1.MsgPostTask",
        value: {
          exact: {},
          consistency: 1, // CONSISTENCY_EVENTUAL
          inline: new TextEncoder().encode("what is 6 x 7?"),
          difficultyUnits: 1,
          minReputationPpm: 0,
          fee: taskFee,
        },
      },
    ],
    "auto",
  );
  assertIsDeliverTxSuccess(post);

  const account = await client.getAccount(sender);
  const recipientBalance = await client.getBalance(recipient, "unop");
  const senderBalance = await client.getBalance(sender, "unop");
  const allBalances = await client.getAllBalances(recipient);
  console.log(
    JSON.stringify({
      types: types.map(([url]) => url),
      sender,
      send: { hash: send.transactionHash, height: send.height, gasWanted: `${send.gasWanted}` },
      post: { hash: post.transactionHash, height: post.height, events: post.events.map((e) => e.type) },
      account: {
        address: account.address,
        accountNumber: account.accountNumber,
        sequence: account.sequence,
      },
      senderBalance: senderBalance.amount,
      recipientBalance: recipientBalance.amount,
      allBalances,
    }),
  );
  client.disconnect();
}

main().catch((e) => {
  console.error(`cosmjs.mjs: ${e?.stack ?? e}`);
  process.exit(1);
});
