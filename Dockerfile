# An image that runs `lvsim compare` (and every other lvsim command) with nothing but Node:
# the build stage bundles the CLI and its worker into dist/ (scripts/build-cli.mjs); the
# runtime stage keeps the bundle, the launcher and the shipped scenarios.
#
#   docker build -t lvsim .
#   docker run --rm -v "$PWD/out:/out" lvsim compare scenarios/compare-schedulers.yaml \
#       --seeds 1..1000 --shard 3/7 --out /out/part-3.json --progress json
#
# See docs/scale.md for sweeps split over Kubernetes, GNU parallel over ssh and CI matrices.
FROM node:22-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN node scripts/build-cli.mjs

FROM node:22-bookworm-slim
WORKDIR /opt/lvsim
COPY --from=build /src/package.json ./
COPY --from=build /src/bin ./bin
COPY --from=build /src/dist ./dist
COPY --from=build /src/scenarios ./scenarios
RUN mkdir /out && chown node:node /out
USER node
ENTRYPOINT ["node", "/opt/lvsim/bin/lvsim.mjs"]
CMD ["help"]
